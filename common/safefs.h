/* Files in a folder that someone else may have written into (a store's folders,
 * the folder an export writes to).
 *
 * INVARIANTS
 * - Every name is opened relative to a folder descriptor and never through a
 *   symbolic link: O_NOFOLLOW on every component, and a final name that is a link
 *   is refused (errno ELOOP), not replaced. A link planted in the folder can make
 *   a write fail; it can never redirect it to a file elsewhere.
 * - Temporary files are created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW); a
 *   leftover of a dead writer is removed first (unlinking a name never follows it).
 * All return 0 (or a descriptor) or -1 with errno set. */
#ifndef KURA_SAFEFS_H
#define KURA_SAFEFS_H

#include <stddef.h>
#include <sys/types.h>

/* What to do about a link found where a store keeps its own files. */
#define KURA_SAFEFS_LINK_ADVICE                                                                          \
	"kura never follows links inside a store (one planted there could make it overwrite files "  \
	"elsewhere); remove the link, put the real file or folder back from a copy, and run the command again"

/* Opens folder rel ("a" or "a/b") under the folder at; "" or "." gives at itself
 * again. With create, missing folders are made (mode 0777, cut by the umask).
 * ELOOP or ENOTDIR when a component is a link or not a folder. */
int kura_safefs_open_dir(int at, const char *rel, int create);
/* Opens the folder holding path (following the caller's own path as given) and
 * sets *name to path's last component (pointing into path). */
int kura_safefs_open_parent(const char *path, const char **name);
/* Replaces dir/name durably with buf: name.tmp made exclusively, written,
 * fsync'd, renamed over name, dir fsync'd. ELOOP if name is a link. */
int kura_safefs_write(int dir, const char *name, const void *buf, size_t n, mode_t mode);
/* Creates dir/name exclusively for writing (a file of that name, but not a link,
 * is removed first); returns the descriptor. */
int kura_safefs_create(int dir, const char *name, mode_t mode);
/* Opens dir/name for reading, refusing a link (ELOOP). */
int kura_safefs_open_read(int dir, const char *name);

/* Several files of one folder replaced together. Each successor is first written
 * as NAME.next (kura_safefs_create, fsync'd); kura_safefs_switch then commits with
 * ONE rename (the journal file appears: "kura switch 1", then one NAME a line),
 * renames each NAME.next over NAME and removes the journal. Whoever next opens the
 * folder under its lock calls kura_safefs_finish: a committed switch is finished
 * (each NAME.next still there renamed), an uncommitted one undone (each NAME.next
 * of the names in known removed). finish returns 1 when it changed something, 0
 * when there was nothing to do, -1 with errno (EBADMSG: a journal naming a file
 * not in known). */
int kura_safefs_switch(int dir, const char *journal, const char *const *names, size_t n);
int kura_safefs_finish(int dir, const char *journal, const char *const *known);

/* Temporary files beside an output: "OUT.tmp.PID.XXXXXX", held under flock(LOCK_EX)
 * by their writer until they are renamed to OUT or removed. */
/* Creates one for out (tmp gets its malloc'd name, the caller's); returns the
 * descriptor, locked. */
int kura_safefs_temp_beside(const char *out, char **tmp);
/* Removes the temporary files of out left by writers that died (killed, power
 * lost): those nobody holds locked and whose PID no longer runs here. Returns
 * how many it removed, or -1. */
int kura_safefs_remove_stale_temps(const char *out);

#endif
