# Builds openapi_embedded.c: server/openapi.json (the service's OpenAPI 3 description,
# served at /api/v1/openapi.json) as the C string kura_openapi. Run with -DOUT=file -DIN=json.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
file(WRITE ${OUT}.tmp "/* Generated from server/openapi.json by server/embed_openapi.cmake: do not edit. */\nconst char kura_openapi[] = {${hex} 0};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
