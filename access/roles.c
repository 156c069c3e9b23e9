/* The roles of the preservation service's accounts and what each may do
 * (kura/access.h). One table: the service asks it before every request. */
#include <string.h>

#include "kura/access.h"

static const char *const names[] = {"admin", "archivist", "approver", "auditor"};

/* allowed[role][action] */
static const unsigned char allowed[4][KURA_DO_STATUS + 1] = {
	/*               read search verify export submit records d-req d-appr admin status */
	[KURA_ROLE_ADMIN] = {1, 0, 0, 0, 0, 0, 0, 0, 1, 1},
	[KURA_ROLE_ARCHIVIST] = {1, 1, 1, 0, 1, 1, 1, 0, 0, 0},
	[KURA_ROLE_APPROVER] = {1, 1, 1, 0, 0, 0, 0, 1, 0, 0},
	[KURA_ROLE_AUDITOR] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 1},
};

int kura_role_parse(kura_role *out, const char *name, kura_error *err)
{
	for (size_t i = 0; name && i < sizeof names / sizeof *names; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (kura_role)i;
			return 0;
		}
	return kura_error_set(err, KURA_EINPUT, "no role '%s': the roles are admin, archivist, approver and auditor",
			      name ? name : "");
}

const char *kura_role_name(kura_role r)
{
	return (unsigned)r < sizeof names / sizeof *names ? names[r] : "?";
}

int kura_role_allows(kura_role r, kura_action a)
{
	return (unsigned)r < 4 && (unsigned)a <= KURA_DO_STATUS && allowed[r][a];
}
