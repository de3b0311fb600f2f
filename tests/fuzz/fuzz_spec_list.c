/* libFuzzer target for the CLI's list of initializer SPECs (nninit probe
 * --init a,b,c): the splitter is self-contained, so it is compiled in here. */
#include "../../cli/spec_list.c"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { CAP = 16, MAX = 4 };
    char *text = malloc(size + 1);
    char items[MAX][CAP];
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int n = -1;
    int rc = cli_split_specs(text, &items[0][0], CAP, MAX, &n);
    if (rc == CLI_SPLIT_OK) {
        if (n < 1 || n > MAX)
            abort();
        size_t total = 0;
        for (int i = 0; i < n; i++) {
            size_t len = strlen(items[i]);
            if (len == 0 || len >= CAP)
                abort();
            total += len;
        }
        if (total + (size_t)(n - 1) != strlen(text)) /* items + separators = the text */
            abort();
    }
    free(text);
    return 0;
}
