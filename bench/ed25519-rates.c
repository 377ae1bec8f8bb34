/* Single-core Ed25519 verify and sign rates of each Debian-packaged
 * implementation on this machine, over the same ~1 KB message. Libraries are
 * measured in alternating rounds and the median round is reported, so machine
 * noise hits each alike. Used to pick the backend of lib/util/crypto.cpp and as the
 * reference rate of bench/bulk-verify. nettle and wolfSSL are measured when
 * their -dev packages are installed. Run through bench/ed25519-rates. */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if __has_include(<nettle/eddsa.h>)
#define HAVE_NETTLE 1
#include <nettle/eddsa.h>
#endif
#if __has_include(<wolfssl/wolfcrypt/ed25519.h>)
#define HAVE_WOLFSSL 1
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#endif

#define MSG 1100
#define ROUNDS 7
static unsigned char msg[MSG], pk[32], sk[64], sig[64];
static EVP_PKEY *ossl_pub, *ossl_priv;
static volatile int bad;
#ifdef HAVE_WOLFSSL
static ed25519_key wolf_key;
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void sodium_verify(void) { bad |= crypto_sign_verify_detached(sig, msg, MSG, pk); }
static void sodium_sign(void) { unsigned char s[64]; crypto_sign_detached(s, NULL, msg, MSG, sk); }
static void openssl_verify(void) {
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  EVP_DigestVerifyInit(c, NULL, NULL, NULL, ossl_pub);
  bad |= EVP_DigestVerify(c, sig, 64, msg, MSG) != 1;
  EVP_MD_CTX_free(c);
}
static void openssl_sign(void) {
  unsigned char s[64];
  size_t len = 64;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  EVP_DigestSignInit(c, NULL, NULL, NULL, ossl_priv);
  EVP_DigestSign(c, s, &len, msg, MSG);
  EVP_MD_CTX_free(c);
}
#ifdef HAVE_NETTLE
static void nettle_verify(void) { bad |= !ed25519_sha512_verify(pk, MSG, msg, sig); }
static void nettle_sign(void) { unsigned char s[64]; ed25519_sha512_sign(pk, sk, MSG, msg, s); }
#endif
#ifdef HAVE_WOLFSSL
static void wolf_verify(void) {
  int ok = 0;
  wc_ed25519_verify_msg(sig, 64, msg, MSG, &ok, &wolf_key);
  bad |= !ok;
}
static void wolf_sign(void) {
  unsigned char s[64];
  word32 len = 64;
  wc_ed25519_sign_msg(msg, MSG, s, &len, &wolf_key);
}
#endif

struct lib { const char *name; void (*verify)(void); void (*sign)(void); double v[ROUNDS], s[ROUNDS]; };

static double rate(void (*op)(void), double secs) {
  double t0 = now(), t;
  long n = 0;
  do {
    for (int i = 0; i < 50; i++, n++) op();
    t = now();
  } while (t - t0 < secs);
  return n / (t - t0);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  double secs = (argc > 1 ? atof(argv[1]) : 1.0) / ROUNDS;
  memset(msg, 'x', MSG);
  if (sodium_init() < 0) return 1;
  crypto_sign_keypair(pk, sk);
  crypto_sign_detached(sig, NULL, msg, MSG, sk);
  ossl_pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
  ossl_priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, 32);
#ifdef HAVE_WOLFSSL
  wc_ed25519_init(&wolf_key);
  wc_ed25519_import_private_key(sk, 32, pk, 32, &wolf_key);
#endif
  struct lib libs[] = {
    {"libsodium", sodium_verify, sodium_sign, {0}, {0}},
    {"openssl", openssl_verify, openssl_sign, {0}, {0}},
#ifdef HAVE_NETTLE
    {"nettle", nettle_verify, nettle_sign, {0}, {0}},
#endif
#ifdef HAVE_WOLFSSL
    {"wolfssl", wolf_verify, wolf_sign, {0}, {0}},
#endif
  };
  const int n = sizeof libs / sizeof libs[0];
  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < n; i++) {
      libs[i].v[r] = rate(libs[i].verify, secs / 2);
      libs[i].s[r] = rate(libs[i].sign, secs / 2);
    }
  }
  if (bad) { fprintf(stderr, "a verification failed\n"); return 1; }
  printf("%-10s %12s %12s\n", "library", "verify/s", "sign/s");
  for (int i = 0; i < n; i++) {
    qsort(libs[i].v, ROUNDS, sizeof(double), cmp);
    qsort(libs[i].s, ROUNDS, sizeof(double), cmp);
    printf("%-10s %12.0f %12.0f\n", libs[i].name, libs[i].v[ROUNDS / 2], libs[i].s[ROUNDS / 2]);
  }
  return 0;
}
