#ifndef TANDEM_CLIBPQ_SHIM_H
#define TANDEM_CLIBPQ_SHIM_H
// libpq, PostgreSQL's own client library (Debian's libpq-dev): the state backend's connection to a shared
// PostgreSQL server. Its calls are not variadic; the wrappers below only name what Swift cannot import
// (the diagnostic-field character macros).
#include <libpq-fe.h>

static inline int tandem_pq_diag_sqlstate(void) { return 'C'; }
static inline int tandem_pq_diag_message_primary(void) { return 'M'; }

#endif
