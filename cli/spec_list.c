/* Splits a comma-separated list of initializer SPECs ("he_normal,
 * VarianceScaling(scale=2.0, mode=\"fan_in\"),orthogonal") at the commas
 * outside parentheses, brackets, braces and quotes. */
#include "cli.h"

#include <string.h>

int cli_split_specs(const char *text, char *items, size_t item_cap, int max_items, int *n_items)
{
    int n = 0, depth = 0;
    char quote = 0;
    size_t len = 0;
    *n_items = 0;
    if (!text || item_cap < 2 || max_items < 1)
        return CLI_SPLIT_EMPTY;
    for (const char *p = text;; p++) {
        char c = *p;
        if (c == '\0' || (c == ',' && depth == 0 && !quote)) {
            if (len == 0)
                return CLI_SPLIT_EMPTY;
            items[(size_t)n * item_cap + len] = '\0';
            n++;
            len = 0;
            if (c == '\0')
                break;
            if (n >= max_items)
                return CLI_SPLIT_TOO_MANY;
            continue;
        }
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
            depth--;
        }
        if (len + 1 >= item_cap)
            return CLI_SPLIT_TOO_LONG;
        items[(size_t)n * item_cap + len++] = c;
    }
    *n_items = n;
    return CLI_SPLIT_OK;
}
