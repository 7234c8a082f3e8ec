/* dlopen a library and resolve its symbols: see libload.h. */
#include "collector/core/libload.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int libload_open(const char *soname, const struct libload_symbol *symbols, size_t count,
                 char *err, size_t errlen)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "cannot load %s: %s", soname, dlerror());
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        void *sym = dlsym(lib, symbols[i].name);
        if (!sym) {
            snprintf(err, errlen, "%s has no %s", soname, symbols[i].name);
            dlclose(lib);
            return -1;
        }
        /* POSIX: a function's address from dlsym converts to a function pointer */
        memcpy(symbols[i].address, &sym, sizeof sym);
    }
    return 0;
}
