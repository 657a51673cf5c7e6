/*
 * Prints sizeof, _Alignof and every field's offsetof for a set of C structs as JSON,
 * so tests/elements.test.ts can check that struct(...) lays out fields exactly as the
 * C compiler does. Keep the struct list in step with LAYOUTS in that test.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct Particle { double x, y; uint32_t id; };
struct Mixed { char c; short s; int i; double d; };
struct Wide { char c; int64_t l; char c2; };
struct Small { short s; char c; };
struct Inner { char c; double d; };
struct Nested { char c; struct Inner in; short s; };
struct Arrays { uint8_t a[3]; uint32_t b; bool f; char name[5]; double d[2]; };
struct Bools { bool a; bool b; int16_t c; float f; };
struct OfStructs { struct Small arr[3]; char tail; };
struct Chars { char name[7]; };
struct Deep { uint16_t tag; struct Nested n; struct Small s[2]; uint64_t u; int8_t last; };
struct Floats { float f; double d; float g; };
struct Tail { int64_t big; uint8_t b; };

#define BEGIN(T) printf("%s\"%s\":{\"size\":%zu,\"align\":%zu,\"fields\":{", first ? "" : ",", #T, sizeof(struct T), _Alignof(struct T)); first = 1;
#define FIELD(T, f) printf("%s\"%s\":%zu", first ? "" : ",", #f, offsetof(struct T, f)); first = 0;
#define END() printf("}}"); first = 0;

int main(void) {
    int first = 1;
    printf("{");
    BEGIN(Particle) FIELD(Particle, x) FIELD(Particle, y) FIELD(Particle, id) END()
    BEGIN(Mixed) FIELD(Mixed, c) FIELD(Mixed, s) FIELD(Mixed, i) FIELD(Mixed, d) END()
    BEGIN(Wide) FIELD(Wide, c) FIELD(Wide, l) FIELD(Wide, c2) END()
    BEGIN(Small) FIELD(Small, s) FIELD(Small, c) END()
    BEGIN(Inner) FIELD(Inner, c) FIELD(Inner, d) END()
    BEGIN(Nested) FIELD(Nested, c) FIELD(Nested, in) FIELD(Nested, s) END()
    BEGIN(Arrays) FIELD(Arrays, a) FIELD(Arrays, b) FIELD(Arrays, f) FIELD(Arrays, name) FIELD(Arrays, d) END()
    BEGIN(Bools) FIELD(Bools, a) FIELD(Bools, b) FIELD(Bools, c) FIELD(Bools, f) END()
    BEGIN(OfStructs) FIELD(OfStructs, arr) FIELD(OfStructs, tail) END()
    BEGIN(Chars) FIELD(Chars, name) END()
    BEGIN(Deep) FIELD(Deep, tag) FIELD(Deep, n) FIELD(Deep, s) FIELD(Deep, u) FIELD(Deep, last) END()
    BEGIN(Floats) FIELD(Floats, f) FIELD(Floats, d) FIELD(Floats, g) END()
    BEGIN(Tail) FIELD(Tail, big) FIELD(Tail, b) END()
    printf("}\n");
    return 0;
}
