/* libcurl, opened on the first call (see libload.h): the curl_* functions
 * the agent calls, under libcurl's own names, each forwarding to
 * libcurl.so.4. An agent that sends no HTTP request never maps libcurl and
 * the ~30 libraries it brings. When the library cannot be loaded, the error
 * is logged once and the calls fail the way libcurl's do (curl_easy_init
 * returns NULL, curl_global_init CURLE_FAILED_INIT). */
#define CURL_DISABLE_TYPECHECK   /* the type-checking macros would rename these definitions */
#include <curl/curl.h>

#include "collector/core/libload.h"
#include "collector/core/log.h"

#include <pthread.h>
#include <stdarg.h>

#define CURL_LIB_SONAME "libcurl.so.4"

typedef void (*curl_lib_function)(void);

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_reset)(CURL *);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} curl_lib;

static pthread_once_t curl_lib_once = PTHREAD_ONCE_INIT;
static int curl_lib_loaded;

static void curl_lib_load(void)
{
    const struct libload_symbol symbols[] = {
        {"curl_global_init", &curl_lib.global_init},
        {"curl_easy_init", &curl_lib.easy_init},
        {"curl_easy_setopt", &curl_lib.easy_setopt},
        {"curl_easy_perform", &curl_lib.easy_perform},
        {"curl_easy_getinfo", &curl_lib.easy_getinfo},
        {"curl_easy_reset", &curl_lib.easy_reset},
        {"curl_easy_cleanup", &curl_lib.easy_cleanup},
        {"curl_easy_strerror", &curl_lib.easy_strerror},
        {"curl_slist_append", &curl_lib.slist_append},
        {"curl_slist_free_all", &curl_lib.slist_free_all},
    };
    char err[512];
    if (libload_open(CURL_LIB_SONAME, symbols, sizeof symbols / sizeof symbols[0], err,
                     sizeof err) < 0) {
        log_msg(LOG_ERROR, "http", "%s: no HTTP request can be sent", err);
        return;
    }
    curl_lib_loaded = curl_lib.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!curl_lib_loaded)
        log_msg(LOG_ERROR, "http", "curl_global_init failed: no HTTP request can be sent");
}

static int curl_lib_ready(void)
{
    pthread_once(&curl_lib_once, curl_lib_load);
    return curl_lib_loaded;
}

/* The library is initialised once when loaded, whatever flags are asked. */
CURLcode curl_global_init(long flags)
{
    return curl_lib_ready() ? CURLE_OK : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
    return curl_lib_ready() ? curl_lib.easy_init() : NULL;
}

/* Handles exist only once the library is loaded, so the calls below that
 * take one need no check. curl_easy_setopt's one argument after the option
 * has the type the option's number range says (curl.h, CURLOPTTYPE_*). */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    CURLcode rc;
    if (option < CURLOPTTYPE_OBJECTPOINT)
        rc = curl_lib.easy_setopt(curl, option, va_arg(ap, long));
    else if (option < CURLOPTTYPE_FUNCTIONPOINT)
        rc = curl_lib.easy_setopt(curl, option, va_arg(ap, void *));
    else if (option < CURLOPTTYPE_OFF_T)
        rc = curl_lib.easy_setopt(curl, option, va_arg(ap, curl_lib_function));
    else if (option < CURLOPTTYPE_BLOB)
        rc = curl_lib.easy_setopt(curl, option, va_arg(ap, curl_off_t));
    else
        rc = curl_lib.easy_setopt(curl, option, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
    va_list ap;
    va_start(ap, info);
    CURLcode rc = curl_lib.easy_getinfo(curl, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

CURLcode curl_easy_perform(CURL *curl)
{
    return curl_lib.easy_perform(curl);
}

void curl_easy_reset(CURL *curl)
{
    curl_lib.easy_reset(curl);
}

void curl_easy_cleanup(CURL *curl)
{
    if (curl)
        curl_lib.easy_cleanup(curl);
}

const char *curl_easy_strerror(CURLcode code)
{
    return curl_lib_ready() ? curl_lib.easy_strerror(code) : "libcurl could not be loaded";
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *text)
{
    return curl_lib_ready() ? curl_lib.slist_append(list, text) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
    if (list)
        curl_lib.slist_free_all(list);
}
