/* Days of the proleptic Gregorian calendar counted from 1970-01-01 (day 0),
 * and back: ONE calendar arithmetic for retention periods (policies/), typed
 * date fields (common/field_value.c) and the business-day calendar. */
#ifndef KURA_CIVIL_H
#define KURA_CIVIL_H

#include <stdint.h>

/* The day y-m-d (m 1..12, d 1..31; not checked: see kura_civil_days_in_month). */
int32_t kura_civil_days(int y, int m, int d);
/* The date of day z. */
void kura_civil_date(int32_t z, int *y, int *m, int *d);
/* 28 to 31. */
int kura_civil_days_in_month(int y, int m);

#endif
