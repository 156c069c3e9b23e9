/* Japan's business days, for the 電子帳簿保存法 timeliness check (docs/DENCHO.md;
 * records/timeliness.c applies it to a store): pure functions of the shipped
 * national holidays (policies/jp-holidays.csv, the Cabinet Office's list,
 * built in) and a store's own calendar file (STORE/calendar.yaml), knowing
 * nothing of a store.
 *
 * A store's calendar file (every key optional):
 *   kura-calendar: 1
 *   jimu-shori-kitei: true        # the firm has an 事務処理規程 (施行規則4条1項2号ロ): the 2-month rule
 *   closed-every-year:            # MM-DD: NAME, days the firm closes every year
 *     "12-29": 年末休業
 *   closed:                       # YYYY-MM-DD: NAME, days the firm closes once
 *     2026-08-14: 夏季休業
 *   holidays:                     # YYYY-MM-DD: NAME, national holidays kura does not ship yet
 *     2028-01-01: 元日            # (a year is known once its 元日 is given: give the whole year)
 *
 * THE COUNTING (one place: calendar.c)
 * - Days are calendar days (day numbers as policies/retention.h's dates), in
 *   Japan time.
 * - A business day is a day that is neither a Saturday, a Sunday, a national
 *   holiday (国民の祝日, 振替休日, 国民の休日: the list's every day) nor a day the
 *   store closes.
 * - Counting N business days from day D: D itself is day 0, whatever it is;
 *   the result is the N-th business day after D.
 * - The deadline for a document received on day R: R + 7 business days
 *   (施行規則4条1項2号イ, 取扱通達4-17: おおむね7営業日以内); with an 事務処理規程,
 *   the end of the 2 months after R (Civil Code arts. 140, 143, as retention
 *   periods: kura_date_period_end), then + 7 business days (同号ロ: その業務の
 *   処理に係る通常の期間(最長2か月)を経過した後、速やかに).
 * - A day of a year the calendar has no national holidays for is never
 *   guessed: KURA_EINPUT naming the year and how to add its holidays. */
#ifndef KURA_POLICIES_CALENDAR_H
#define KURA_POLICIES_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "kura/error.h"

#define KURA_CALENDAR_DAYS 7   /* おおむね7営業日 */
#define KURA_CALENDAR_MONTHS 2 /* 最長2か月 */

typedef struct kura_calendar kura_calendar;

/* The shipped national holidays. Free with kura_calendar_free. */
int kura_calendar_new(kura_calendar **out, kura_error *err);
void kura_calendar_free(kura_calendar *c);

/* Adds the national holidays of a CSV text (date,name lines; '#' comments and
 * the header "date,name" skipped), as policies/jp-holidays.csv is. */
int kura_calendar_add_csv(kura_calendar *c, const char *text, size_t len, const char *origin, kura_error *err);
/* Reads a store's calendar file (format above) on top; KURA_EINPUT naming the line. */
int kura_calendar_add_store(kura_calendar *c, const char *text, size_t len, const char *origin, kura_error *err);

/* 1 if the store says the firm has an 事務処理規程 (jimu-shori-kitei: true). */
int kura_calendar_jimu_shori_kitei(const kura_calendar *c);
/* The first and last year of the shipped holidays. */
void kura_calendar_shipped_years(const kura_calendar *c, int *first, int *last);

/* *business: 1 if day is a business day, else 0 and *why (may be NULL) says
 * why not ("Saturday", "Sunday", the holiday's or the store's name; borrowed).
 * KURA_EINPUT when the calendar has no holidays for day's year. */
int kura_calendar_is_business(int *business, const char **why, const kura_calendar *c, int32_t day, kura_error *err);
/* *out: the n-th business day after day (day counts as day 0). */
int kura_calendar_add_business(int32_t *out, const kura_calendar *c, int32_t day, int n, kura_error *err);
/* *n: the business days after from up to and including to (0 when to <= from). */
int kura_calendar_business_between(int *n, const kura_calendar *c, int32_t from, int32_t to, kura_error *err);
/* *deadline: the last day a document received on day received may be
 * time-stamped (THE COUNTING; with the store's 事務処理規程 when it has one). */
int kura_calendar_deadline(int32_t *deadline, const kura_calendar *c, int32_t received, kura_error *err);

#endif
