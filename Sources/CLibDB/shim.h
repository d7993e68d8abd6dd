/* shim.h: exposes Berkeley DB's C API (libdb-dev, <db.h>) to Swift. */
#include <db.h>
