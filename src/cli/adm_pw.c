/*
 * adm_pw: `winnowadm pw`, password hashes for the controller.
 *
 * Hashes with argon2id through libsodium (crypto_pwhash_str with the
 * INTERACTIVE limits: the controller verifies on every request, so it must
 * stay fast), printing the standard "$argon2id$v=19$m=...,t=...,p=...$salt$hash"
 * string; --check verifies a password against such a string.  The plain
 * password comes from -p (scripts) or the terminal with echo off (or one
 * line of stdin when there is no terminal); it is wiped from memory after
 * use.  Rspamd's own "$1$" (PBKDF2-BLAKE2b) and "$2$" (Catena) hashes are
 * not produced nor checked here: they are reported as an invalid format.
 *
 * Argument forms accepted for checking:
 *   pw --check HASH [-p PASSWORD]   (the brief's form; HASH may also follow -c)
 *   pw -c -p HASH                   (rspamadm's: -p carries the hash, the
 *                                    password is read from the terminal)
 */
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/adm.h"

#define PW_MAX 1024

/* Reads one line into out (without the newline); from /dev/tty with echo
 * off when there is a terminal, else from stdin. */
static int pw_read(const char *prompt, char *out, size_t outsz)
{
    struct termios old, noecho;
    FILE *f = fopen("/dev/tty", "r+");
    FILE *in = f != NULL ? f : stdin;
    bool tty = f != NULL && tcgetattr(fileno(f), &old) == 0;
    size_t len;

    if (tty) {
        noecho = old;
        noecho.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(f), TCSAFLUSH, &noecho);
        fputs(prompt, f);
        fflush(f);
    }
    if (fgets(out, (int)outsz, in) == NULL)
        out[0] = '\0';
    if (tty) {
        tcsetattr(fileno(f), TCSAFLUSH, &old);
        fputc('\n', f);
    }
    if (f != NULL)
        fclose(f);
    len = strcspn(out, "\r\n");
    out[len] = '\0';
    return len > 0 ? 0 : -1;
}

static bool pw_format_ok(const char *hash)
{
    return (strncmp(hash, "$argon2id$", 10) == 0 || strncmp(hash, "$argon2i$", 9) == 0) &&
           strlen(hash) < crypto_pwhash_STRBYTES;
}

static int pw_check(const char *hash, const char *password)
{
    char buf[PW_MAX];
    int rc;

    if (!pw_format_ok(hash)) {
        printf("Invalid password format\n");
        return 1;
    }
    if (password == NULL) {
        if (pw_read("Enter passphrase: ", buf, sizeof(buf)) < 0) {
            fprintf(stderr, "winnowadm: no password given\n");
            return 1;
        }
        password = buf;
    }
    rc = crypto_pwhash_str_verify(hash, password, strlen(password));
    sodium_memzero(buf, sizeof(buf));
    printf(rc == 0 ? "password correct\n" : "password incorrect\n");
    return rc == 0 ? 0 : 1;
}

static int pw_encrypt(const char *password)
{
    char buf[PW_MAX], out[crypto_pwhash_STRBYTES];
    int rc;

    if (password == NULL) {
        if (pw_read("Enter passphrase: ", buf, sizeof(buf)) < 0) {
            fprintf(stderr, "winnowadm: empty password refused\n");
            return 1;
        }
        password = buf;
    }
    if (password[0] == '\0') {
        fprintf(stderr, "winnowadm: empty password refused\n");
        return 1;
    }
    rc = crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_memzero(buf, sizeof(buf));
    if (rc != 0) {
        fprintf(stderr, "winnowadm: cannot hash the password (out of memory)\n");
        return 1;
    }
    printf("%s\n", out);
    return 0;
}

int adm_cmd_pw(struct adm_ctx *ctx, int argc, char **argv)
{
    static const struct option lo[] = {
        {"encrypt", no_argument, NULL, 'e'}, {"check", no_argument, NULL, 'c'},
        {"password", required_argument, NULL, 'p'}, {"type", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},   {"list", no_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *password = NULL;
    bool check = false;
    int c;

    (void)ctx;
    while ((c = getopt_long(argc, argv, "ecp:t:ql", lo, NULL)) != -1) {
        switch (c) {
        case 'e': check = false; break;
        case 'c': check = true; break;
        case 'p': password = optarg; break;
        case 'q': break;
        case 'l':
            printf("argon2id: Argon2id (libsodium) - memory-hard KDF, the only type winnow "
                   "produces\n");
            return 0;
        case 't':
            if (strcmp(optarg, "argon2id") == 0)
                break;
            fprintf(stderr, "winnowadm: password type '%s' is not supported (argon2id only)\n",
                    optarg);
            return 1;
        default: return adm_usage_error("pw [-e] [-p PASSWORD] | pw --check HASH [-p PASSWORD]");
        }
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "winnowadm: libsodium initialisation failed\n");
        return 1;
    }
    if (!check)
        return pw_encrypt(password);
    if (optind < argc)                   /* --check HASH [-p PASSWORD] */
        return pw_check(argv[optind], password);
    if (password != NULL)                /* rspamadm: -c -p HASH, password from the TTY */
        return pw_check(password, NULL);
    return adm_usage_error("pw --check HASH [-p PASSWORD]");
}
