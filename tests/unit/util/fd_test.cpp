#include "lib/util/fd.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace epilot::util {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

int open_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(Fd, ClosesWhatItOwns) {
  int raw = -1;
  {
    Fd fd(open_null());
    raw = fd.get();
    ASSERT_GE(raw, 0);
    EXPECT_TRUE(fd.valid());
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(Fd, EmptyOrNegativeHoldsNothing) {
  Fd none;
  EXPECT_FALSE(none.valid());
  EXPECT_EQ(none.get(), -1);
  Fd failed(-1);
  EXPECT_FALSE(failed.valid());
  EXPECT_EQ(failed.close(), 0);
}

TEST(Fd, ReleaseGivesOwnershipAway) {
  Fd fd(open_null());
  const int raw = fd.release();
  EXPECT_FALSE(fd.valid());
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

TEST(Fd, ResetClosesTheOldOne) {
  Fd fd(open_null());
  const int first = fd.get();
  const int second = open_null();
  fd.reset(second);
  EXPECT_FALSE(is_open(first));
  EXPECT_EQ(fd.get(), second);
  fd.reset();
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(is_open(second));
}

TEST(Fd, MovesOwnership) {
  Fd a(open_null());
  const int raw = a.get();
  Fd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
  EXPECT_EQ(b.get(), raw);
  Fd c(open_null());
  const int other = c.get();
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_FALSE(is_open(other));
  EXPECT_TRUE(is_open(raw));
}

TEST(Fd, CloseReportsAndEmpties) {
  Fd fd(open_null());
  const int raw = fd.get();
  EXPECT_EQ(fd.close(), 0);
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(is_open(raw));
}

}  // namespace
}  // namespace epilot::util
