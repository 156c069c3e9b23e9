# Builds policies_embedded.c: the shipped policy files as C strings, so `kura init
# --policy NAME` works wherever the binary is, without looking for files. retention.yaml
# (the retention classes, policies/retention.c) is kura_shipped_retention, not a renewal policy.
# jp-holidays.csv (Japan's national holidays, policies/calendar.c) is kura_shipped_jp_holidays.
# Run with -DOUT=file -DDIR=policies.
file(GLOB files "${DIR}/*.yaml")
list(SORT files)
set(body "/* Generated from the .yaml files in policies/ by policies/embed.cmake: do not edit. */\n#include <stddef.h>\n\n")
set(table "const struct { const char *name; const char *text; } kura_shipped_policies[] = {\n")
set(i 0)
foreach(f ${files})
  get_filename_component(name ${f} NAME_WE)
  file(READ ${f} hex HEX)
  if(name STREQUAL "retention")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
    string(APPEND body "const char kura_shipped_retention[] = {${hex} 0};\n")
    continue()
  endif()
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char policy_${i}[] = {${hex} 0};\n")
  string(APPEND table "\t{\"${name}\", policy_${i}},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(READ "${DIR}/jp-holidays.csv" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
string(APPEND body "const char kura_shipped_jp_holidays[] = {${hex} 0};\n")
string(APPEND table "\t{NULL, NULL},\n};\n")
file(WRITE ${OUT}.tmp "${body}\n${table}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
