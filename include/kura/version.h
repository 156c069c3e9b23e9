/* Which kura this is: shown by `kura --version` and written into reports and packages. */
#ifndef KURA_VERSION_H
#define KURA_VERSION_H

#define KURA_VERSION "0.1.0"

#endif
