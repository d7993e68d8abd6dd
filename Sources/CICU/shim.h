/* shim.h: the few ICU (libicu-dev) case-mapping calls Postfix's casefold()
 * makes, for Swift. ICU's headers rename every function to carry the
 * library's version (ucasemap_open -> ucasemap_open_72) with macros, which
 * Swift cannot see through; these inline wrappers are compiled as C, where
 * the macros apply, so the Swift code does not depend on ICU's version. */
#ifndef CICU_SHIM_H
#define CICU_SHIM_H

#include <stdint.h>
#include <unicode/utypes.h>
#include <unicode/ucasemap.h>

/* ucasemap_open(locale, options): NULL with *error set on failure. */
static inline UCaseMap *cicu_casemap_open(const char *locale, uint32_t options, int32_t *error) {
    UErrorCode code = U_ZERO_ERROR;
    UCaseMap *map = ucasemap_open(locale, options, &code);
    *error = (int32_t) code;
    return U_SUCCESS(code) ? map : NULL;
}

/* The options value for default (non-Turkic) case folding. */
static inline uint32_t cicu_fold_case_default(void) {
    return U_FOLD_CASE_DEFAULT;
}

/* ucasemap_utf8FoldCase: the folded length, which may exceed `capacity`
 * (then *overflow is 1 and nothing useful was written); *error is 0 on
 * success or buffer overflow, else ICU's error code. */
static inline int32_t cicu_utf8_fold_case(const UCaseMap *map, char *dest, int32_t capacity,
                                          const char *src, int32_t length, int32_t *overflow, int32_t *error) {
    UErrorCode code = U_ZERO_ERROR;
    int32_t needed = ucasemap_utf8FoldCase(map, dest, capacity, src, length, &code);
    *overflow = code == U_BUFFER_OVERFLOW_ERROR;
    *error = (*overflow || U_SUCCESS(code)) ? 0 : (int32_t) code;
    return needed;
}

/* u_errorName, for messages. */
static inline const char *cicu_error_name(int32_t error) {
    return u_errorName((UErrorCode) error);
}

#endif
