# Builds package_embedded.c: what every export package carries besides its objects, as C
# strings (package/export.c): VERIFY.md (how to check the package without kura) and
# verify.sh (the script that does it). Run with -DOUT=file -DDIR=package.
set(body "/* Generated from package/VERIFY.md and package/verify.sh by package/embed.cmake: do not edit. */\n")
foreach(pair "VERIFY.md;kura_verify_md" "verify.sh;kura_verify_sh")
  list(GET pair 0 file)
  list(GET pair 1 name)
  file(READ "${DIR}/${file}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "const char ${name}[] = {${hex} 0};\n")
endforeach()
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
