/* The one place where an error's kind (kura/error.h) becomes the exit status of
 * the kura command (DESIGN.md: 0 success, 1 verification failed or not found,
 * 2 bad usage or input, 3 I/O, TSA or internal failure). The library knows no
 * exit statuses. */
#include "cli.h"

int kura_cli_exit_status(int code)
{
	switch (code) {
	case KURA_OK:
		return 0;
	case KURA_ENOTFOUND:
	case KURA_EDAMAGED:
		return 1;
	case KURA_EINPUT:
	case KURA_EEXIST:
	case KURA_EDENIED:
	case KURA_EUNSUPPORTED:
		return 2;
	case KURA_EIO:
	case KURA_ELOCKED:
	case KURA_ETSA:
	case KURA_EINTERNAL:
	default:
		return 3;
	}
}
