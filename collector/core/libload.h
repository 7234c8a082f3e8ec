/* Libraries opened at first use (dlopen) rather than at program start.
 *
 * libcurl and libarchive bring some 35 shared libraries with them (gnutls,
 * krb5, ldap, ICU, libxml2, libstdc++...). Linked normally, every one is
 * mapped and relocated when the agent starts, about 8 MiB of resident pages,
 * even in an agent that ships nowhere or never writes a bundle. core/curl_lib.c
 * and bundle/archive_lib.c define the functions the agent calls under the
 * libraries' own names and forward each call to the library, loaded once,
 * on the first call, with this. */
#ifndef COLLECTOR_CORE_LIBLOAD_H
#define COLLECTOR_CORE_LIBLOAD_H

#include <stddef.h>

struct libload_symbol {
    const char *name;   /* the symbol in the library */
    void *address;      /* where its address is stored: a function pointer */
};

/* dlopen soname and store each symbol's address. 0, or -1 with err saying
 * which library or symbol is missing (nothing is kept open then). */
int libload_open(const char *soname, const struct libload_symbol *symbols, size_t count,
                 char *err, size_t errlen);

#endif
