/* Single-core Ed25519 verify (and sign) rates of every Debian-packaged
 * implementation on this machine, over the same ~1 KB message. Used to pick
 * the backend in lib/crypto.cpp and as the reference rate of bench/bulk-verify.
 * Build and run: bench/ed25519-rates (it compiles this file). */
#include <nettle/eddsa.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef HAVE_WOLFSSL
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

#define MSG 1100
static unsigned char msg[MSG], pk[32], sk[64], sig[64];

/* Run `body` for about `secs` seconds and return operations per second. */
#define RATE(secs, body)                                    \
  ({                                                        \
    double t0 = now(), t;                                   \
    long n = 0;                                             \
    do {                                                    \
      for (int i = 0; i < 200; i++, n++) { body; }          \
      t = now();                                            \
    } while (t - t0 < (secs));                              \
    n / (t - t0);                                           \
  })

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  memset(msg, 'x', MSG);
  if (sodium_init() < 0) return 1;
  crypto_sign_keypair(pk, sk);
  crypto_sign_detached(sig, NULL, msg, MSG, sk);
  volatile int bad = 0;

  double sodium_v = RATE(secs, bad |= crypto_sign_verify_detached(sig, msg, MSG, pk));
  double sodium_s = RATE(secs, crypto_sign_detached(sig, NULL, msg, MSG, sk));

  EVP_PKEY *pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
  EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, 32);
  double openssl_v = RATE(secs, {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(c, NULL, NULL, NULL, pub);
    bad |= EVP_DigestVerify(c, sig, 64, msg, MSG) != 1;
    EVP_MD_CTX_free(c);
  });
  double openssl_s = RATE(secs, {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t len = 64;
    EVP_DigestSignInit(c, NULL, NULL, NULL, priv);
    EVP_DigestSign(c, sig, &len, msg, MSG);
    EVP_MD_CTX_free(c);
  });

  double nettle_v = RATE(secs, bad |= !ed25519_sha512_verify(pk, MSG, msg, sig));
  double nettle_s = RATE(secs, ed25519_sha512_sign(pk, sk, MSG, msg, sig));

  printf("%-10s %12s %12s\n", "library", "verify/s", "sign/s");
  printf("%-10s %12.0f %12.0f\n", "libsodium", sodium_v, sodium_s);
  printf("%-10s %12.0f %12.0f\n", "openssl", openssl_v, openssl_s);
  printf("%-10s %12.0f %12.0f\n", "nettle", nettle_v, nettle_s);
#ifdef HAVE_WOLFSSL
  ed25519_key key;
  wc_ed25519_init(&key);
  wc_ed25519_import_private_key(sk, 32, pk, 32, &key);
  word32 siglen = 64;
  wc_ed25519_sign_msg(msg, MSG, sig, &siglen, &key);
  double wolf_v = RATE(secs, {
    int ok = 0;
    wc_ed25519_verify_msg(sig, 64, msg, MSG, &ok, &key);
    bad |= !ok;
  });
  double wolf_s = RATE(secs, { siglen = 64; wc_ed25519_sign_msg(msg, MSG, sig, &siglen, &key); });
  printf("%-10s %12.0f %12.0f\n", "wolfssl", wolf_v, wolf_s);
#endif
  if (bad) { fprintf(stderr, "a verification failed\n"); return 1; }
  return 0;
}
