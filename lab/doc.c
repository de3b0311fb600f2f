/*
 * The lab's report as one document, kept as a JSON tree while the
 * experiments run (what lab.json holds: every table cell as a number, every
 * figure's data, every lesson's measurements) and streamed as markdown line
 * by line. At the end the same tree is rendered as report.md and as a
 * self-contained report.html (inline SVG, inline CSS, no script, nothing
 * fetched), so the two reports cannot disagree with lab.json.
 */
#include "lab_internal.h"
#include "nninit_io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIGURES 64

struct lab_doc {
    const nninit_lab_opts *o;
    json_t *root;      /* {"title", "sections": [{"name", "title", "blocks": [...]}]} */
    json_t *blocks;    /* the current section's blocks (borrowed) */
    json_t *table;     /* the open table block (borrowed) */
    json_t *row, *row_text;
    char md_row[4096];
    size_t md_len;
    int n_cols, n_cells;
    char *svg[MAX_FIGURES]; /* each figure's SVG, for the HTML */
    int n_figures;
    FILE *md;          /* the markdown, in memory */
    char *md_buf;
    size_t md_size;
    int oom;
    char section[32];
};

int doc_ok(const lab_doc *d) { return d && !d->oom && d->md && !ferror(d->md); }

/* Takes a new reference's ownership; a NULL (failed allocation) marks the
 * document out of memory. */
static void add(lab_doc *d, json_t *arr, json_t *v)
{
    if (!v || !arr || json_array_append_new(arr, v) != 0)
        d->oom = 1;
}

static void set(lab_doc *d, json_t *obj, const char *key, json_t *v)
{
    if (!v || !obj || json_object_set_new(obj, key, v) != 0)
        d->oom = 1;
}

/* A double as JSON: a number, or null when not finite (JSON has no NaN). */
static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static void line(lab_doc *d, const char *text)
{
    if (d->o->on_line)
        d->o->on_line(text, d->o->user);
    if (d->md)
        fprintf(d->md, "%s\n", text);
}

static void vformat(char *buf, size_t cap, const char *fmt, va_list ap) { vsnprintf(buf, cap, fmt, ap); }

nninit_status doc_new(const nninit_lab_opts *o, lab_doc **out, nninit_err *err)
{
    lab_doc *d = calloc(1, sizeof *d);
    if (!d)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the report");
    d->o = o;
    d->root = json_object();
    json_t *sections = json_array();
    json_t *intro = json_object();
    d->blocks = json_array();
    d->md = open_memstream(&d->md_buf, &d->md_size);
    if (!d->root || !sections || !intro || !d->blocks || !d->md) {
        json_decref(sections);
        json_decref(intro);
        json_decref(d->blocks);
        d->blocks = NULL;
        doc_free(d);
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the report");
    }
    json_t *blocks = d->blocks;
    set(d, intro, "name", json_string("intro"));
    set(d, intro, "title", json_string(""));
    set(d, intro, "blocks", blocks);
    add(d, sections, intro);
    set(d, d->root, "sections", sections);
    snprintf(d->section, sizeof d->section, "intro");
    *out = d;
    return NNINIT_OK;
}

void doc_free(lab_doc *d)
{
    if (!d)
        return;
    if (d->md)
        fclose(d->md);
    free(d->md_buf);
    for (int i = 0; i < d->n_figures; i++)
        nninit_free(d->svg[i]);
    json_decref(d->root);
    free(d);
}

static json_t *block(lab_doc *d, const char *type)
{
    json_t *b = json_object();
    if (b)
        set(d, b, "type", json_string(type));
    add(d, d->blocks, json_incref(b));
    json_decref(b);
    return d->oom ? NULL : b;
}

void doc_title(lab_doc *d, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vformat(text, sizeof text, fmt, ap);
    va_end(ap);
    set(d, d->root, "title", json_string(text));
    char md[520];
    snprintf(md, sizeof md, "# %s", text);
    line(d, md);
}

void doc_section(lab_doc *d, const char *name, const char *title)
{
    json_t *s = json_object(), *blocks = json_array();
    if (!s || !blocks) {
        json_decref(s);
        json_decref(blocks);
        d->oom = 1;
        return;
    }
    set(d, s, "name", json_string(name));
    set(d, s, "title", json_string(title));
    set(d, s, "blocks", blocks);
    add(d, json_object_get(d->root, "sections"), s);
    d->blocks = blocks;
    snprintf(d->section, sizeof d->section, "%s", name);
    char md[256];
    snprintf(md, sizeof md, "## %s", title);
    line(d, "");
    line(d, md);
}

void doc_subheading(lab_doc *d, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vformat(text, sizeof text, fmt, ap);
    va_end(ap);
    json_t *b = block(d, "heading");
    if (b)
        set(d, b, "text", json_string(text));
    char md[264];
    snprintf(md, sizeof md, "### %s", text);
    line(d, "");
    line(d, md);
}

void doc_text(lab_doc *d, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vformat(text, sizeof text, fmt, ap);
    va_end(ap);
    json_t *b = block(d, "text");
    if (b)
        set(d, b, "text", json_string(text));
    line(d, "");
    line(d, text);
}

void doc_table(lab_doc *d, int n_cols, const char *const *header)
{
    json_t *b = block(d, "table");
    json_t *h = json_array();
    for (int i = 0; i < n_cols; i++)
        add(d, h, json_string(header[i]));
    if (b) {
        set(d, b, "header", h);
        set(d, b, "rows", json_array());
        set(d, b, "text", json_array());
    } else {
        json_decref(h);
    }
    d->table = b;
    d->n_cols = n_cols;
    d->n_cells = 0;
    d->md_len = 0;
    char md[1024];
    size_t len = 0;
    md[0] = 0;
    for (int i = 0; i < n_cols && len < sizeof md; i++)
        len += (size_t)snprintf(md + len, sizeof md - len, "| %s ", header[i]);
    if (len < sizeof md)
        snprintf(md + len, sizeof md - len, "|");
    line(d, "");
    line(d, md);
    len = 0;
    for (int i = 0; i < n_cols && len < sizeof md; i++)
        len += (size_t)snprintf(md + len, sizeof md - len, "|---");
    if (len < sizeof md)
        snprintf(md + len, sizeof md - len, "|");
    line(d, md);
}

static void cell(lab_doc *d, json_t *value, const char *text)
{
    if (!d->row) {
        d->row = json_array();
        d->row_text = json_array();
        d->md_len = 0;
        d->md_row[0] = 0;
    }
    add(d, d->row, value);
    add(d, d->row_text, json_string(text));
    if (d->md_len < sizeof d->md_row)
        d->md_len += (size_t)snprintf(d->md_row + d->md_len, sizeof d->md_row - d->md_len, "| %s ", text);
    d->n_cells++;
}

void doc_cell_text(lab_doc *d, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vformat(text, sizeof text, fmt, ap);
    va_end(ap);
    cell(d, json_string(text), text);
}

void doc_cell_num(lab_doc *d, const char *fmt, double v)
{
    char text[64];
    snprintf(text, sizeof text, fmt, v);
    cell(d, num(v), text);
}

void doc_row_end(lab_doc *d)
{
    while (d->n_cells < d->n_cols) /* a short row is padded with empty cells */
        cell(d, json_null(), "");
    if (d->table) {
        add(d, json_object_get(d->table, "rows"), d->row);
        add(d, json_object_get(d->table, "text"), d->row_text);
    } else {
        json_decref(d->row);
        json_decref(d->row_text);
    }
    d->row = d->row_text = NULL;
    if (d->md_len < sizeof d->md_row)
        snprintf(d->md_row + d->md_len, sizeof d->md_row - d->md_len, "|");
    line(d, d->md_row);
    d->n_cells = 0;
}

nninit_status doc_figure(lab_doc *d, const char *id, const char *caption, const nninit_plot *plots, int n_plots,
                         nninit_err *err)
{
    if (d->n_figures == MAX_FIGURES)
        return nninit_err_set(err, NNINIT_EINVAL, "lab: more than %d figures", MAX_FIGURES);
    char *svg = NULL;
    nninit_status st = nninit_svg_render(plots, n_plots, &svg, err);
    if (st != NNINIT_OK)
        return st;
    char file[96];
    snprintf(file, sizeof file, "%s.svg", id);
    if (d->o->out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", d->o->out_dir, file);
        st = nninit_file_write(path, svg, strlen(svg), err);
        if (st != NNINIT_OK) {
            nninit_free(svg);
            return st;
        }
    }
    json_t *b = block(d, "figure");
    json_t *panels = json_array();
    for (int p = 0; p < n_plots; p++) {
        json_t *pj = json_object(), *series = json_array();
        if (!pj || !series) {
            json_decref(pj);
            json_decref(series);
            d->oom = 1;
            break;
        }
        set(d, pj, "title", plots[p].title ? json_string(plots[p].title) : json_null());
        set(d, pj, "xlabel", plots[p].xlabel ? json_string(plots[p].xlabel) : json_null());
        set(d, pj, "ylabel", plots[p].ylabel ? json_string(plots[p].ylabel) : json_null());
        set(d, pj, "log_x", json_boolean(plots[p].log_x));
        set(d, pj, "log_y", json_boolean(plots[p].log_y));
        for (int s = 0; s < plots[p].n_series; s++) {
            const nninit_plot_series *ser = &plots[p].series[s];
            json_t *sj = json_object(), *xs = json_array(), *ys = json_array();
            for (int64_t i = 0; i < ser->n; i++) {
                add(d, xs, num(ser->x[i]));
                add(d, ys, num(ser->y[i]));
            }
            if (sj) {
                set(d, sj, "label", ser->label ? json_string(ser->label) : json_null());
                set(d, sj, "dashed", json_boolean(ser->dashed));
                set(d, sj, "x", xs);
                set(d, sj, "y", ys);
            } else {
                json_decref(xs);
                json_decref(ys);
            }
            add(d, series, sj);
        }
        set(d, pj, "series", series);
        add(d, panels, pj);
    }
    if (b) {
        set(d, b, "id", json_string(id));
        set(d, b, "caption", json_string(caption));
        set(d, b, "file", json_string(file));
        set(d, b, "index", json_integer(d->n_figures));
        set(d, b, "panels", panels);
    } else {
        json_decref(panels);
    }
    d->svg[d->n_figures++] = svg;
    char md[512];
    snprintf(md, sizeof md, "![%s](%s)", caption, file);
    line(d, "");
    line(d, md);
    return NNINIT_OK;
}

static nninit_lab_lesson *next_lesson(lab_doc *d, nninit_lab_summary *s)
{
    nninit_lab_lesson *l = &s->lessons[s->n_lessons < NNINIT_LAB_MAX_LESSONS ? s->n_lessons++ : s->n_lessons - 1];
    memset(l, 0, sizeof *l);
    snprintf(l->experiment, sizeof l->experiment, "%s", d->section);
    return l;
}

static const char *status_name(const nninit_lab_lesson *l)
{
    return !l->checked ? "skipped" : (l->confirmed ? "confirmed" : "not_reproduced");
}

static const char *status_text(const nninit_lab_lesson *l)
{
    return !l->checked ? "skipped" : (l->confirmed ? "confirmed" : "NOT reproduced");
}

static void lesson_block(lab_doc *d, const nninit_lab_lesson *l, const lab_value *values, int n_values)
{
    json_t *b = block(d, "lesson");
    if (b) {
        set(d, b, "title", json_string(l->title));
        set(d, b, "status", json_string(status_name(l)));
        set(d, b, "evidence", json_string(l->evidence));
        json_t *v = json_object();
        for (int i = 0; i < n_values; i++)
            set(d, v, values[i].name, num(values[i].value));
        set(d, b, "values", v);
    }
    char md[1024];
    snprintf(md, sizeof md, "**Lesson: %s: %s.** %s", l->title, status_text(l), l->evidence);
    line(d, "");
    line(d, md);
}

void doc_lesson(lab_doc *d, nninit_lab_summary *s, const char *title, int confirmed, const lab_value *values,
                int n_values, const char *fmt, ...)
{
    nninit_lab_lesson *l = next_lesson(d, s);
    snprintf(l->title, sizeof l->title, "%s", title);
    va_list ap;
    va_start(ap, fmt);
    vformat(l->evidence, sizeof l->evidence, fmt, ap);
    va_end(ap);
    l->checked = 1;
    l->confirmed = confirmed;
    lesson_block(d, l, values, n_values);
}

void doc_lesson_skipped(lab_doc *d, nninit_lab_summary *s, const char *title, const char *why)
{
    nninit_lab_lesson *l = next_lesson(d, s);
    snprintf(l->title, sizeof l->title, "%s", title);
    snprintf(l->evidence, sizeof l->evidence, "%s", why);
    lesson_block(d, l, NULL, 0);
}

void doc_summary(lab_doc *d, const nninit_lab_summary *s)
{
    int confirmed = 0, checked = 0;
    for (int i = 0; i < s->n_lessons; i++) {
        checked += s->lessons[i].checked;
        confirmed += s->lessons[i].confirmed;
    }
    char title[96];
    snprintf(title, sizeof title, "Summary: %d of %d checked lessons confirmed", confirmed, checked);
    line(d, "");
    char md[128];
    snprintf(md, sizeof md, "## %s", title);
    line(d, md);
    line(d, "");
    for (int i = 0; i < s->n_lessons; i++) {
        char item[1200];
        snprintf(item, sizeof item, "- %s (%s): %s. %s", s->lessons[i].title, s->lessons[i].experiment,
                 status_text(&s->lessons[i]), s->lessons[i].evidence);
        line(d, item);
    }
}

/* ---- lab.json ---- */

static json_t *lessons_json(const nninit_lab_summary *s)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < s->n_lessons && i < NNINIT_LAB_MAX_LESSONS; i++) {
        const nninit_lab_lesson *l = &s->lessons[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "experiment", l->experiment, "title", l->title, "status",
                              status_name(l), "evidence", l->evidence);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *options_json(const nninit_lab_opts *o)
{
    return json_pack("{s:s, s:I, s:b, s:i, s:I, s:i, s:I, s:i, s:b, s:s?, s:s?}", "version", nninit_version(), "seed",
                     (json_int_t)o->seed, "quick", o->quick, "epochs", o->epochs, "train_limit",
                     (json_int_t)o->train_limit, "depth", o->depth, "width", (json_int_t)o->width, "threads",
                     o->threads, "skip_training", o->skip_training, "only", o->only, "data_dir", o->data_dir);
}

nninit_status nninit_lab_summary_json(const nninit_lab_opts *o, const nninit_lab_summary *s, char **json,
                                      nninit_err *err)
{
    if (!o || !s || !json)
        return nninit_err_set(err, NNINIT_EMISUSE, "nninit_lab_summary_json: NULL argument");
    *json = NULL;
    json_t *root = options_json(o);
    json_t *lessons = lessons_json(s);
    int bad = !root || !lessons;
    if (!bad)
        bad = json_object_set_new(root, "data", json_boolean(s->data_found)) != 0 ||
              json_object_set_new(root, "lessons", lessons) != 0;
    else
        json_decref(lessons);
    char *text = bad ? NULL : json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the summary");
    size_t n = strlen(text);
    char *withnl = realloc(text, n + 2);
    if (!withnl) {
        free(text);
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the summary");
    }
    memcpy(withnl + n, "\n", 2);
    *json = withnl;
    return NNINIT_OK;
}

nninit_status doc_json(lab_doc *d, const nninit_lab_summary *s, char **json, nninit_err *err)
{
    *json = NULL;
    json_t *opts = options_json(d->o), *lessons = lessons_json(s);
    set(d, d->root, "options", opts);
    set(d, d->root, "rerun", json_string(s->rerun));
    set(d, d->root, "data", json_boolean(s->data_found));
    set(d, d->root, "lessons", lessons);
    int confirmed = 0, checked = 0;
    for (int i = 0; i < s->n_lessons; i++) {
        checked += s->lessons[i].checked;
        confirmed += s->lessons[i].confirmed;
    }
    set(d, d->root, "checked", json_integer(checked));
    set(d, d->root, "confirmed", json_integer(confirmed));
    char *text = d->oom ? NULL : json_dumps(d->root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (!text)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for lab.json");
    *json = text;
    return NNINIT_OK;
}

/* ---- report.html ---- */

static void html_escape(FILE *f, const char *t)
{
    for (; *t; t++) {
        switch (*t) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*t, f);
        }
    }
}

/* The report's inline markdown: `code` and **bold**, the rest escaped. */
static void html_inline(FILE *f, const char *t)
{
    int code = 0, bold = 0;
    char one[2] = {0, 0};
    for (; *t; t++) {
        if (*t == '`') {
            fputs(code ? "</code>" : "<code>", f);
            code = !code;
        } else if (!code && t[0] == '*' && t[1] == '*') {
            fputs(bold ? "</strong>" : "<strong>", f);
            bold = !bold;
            t++;
        } else {
            one[0] = *t;
            html_escape(f, one);
        }
    }
    if (code)
        fputs("</code>", f);
    if (bold)
        fputs("</strong>", f);
}

static const char *CSS =
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;"
    "line-height:1.45}\n"
    "h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}\n"
    "table{border-collapse:collapse;margin:1em 0;font-size:.92em}\n"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\n"
    "figure.chart{margin:1em 0;overflow-x:auto}figure.chart svg{max-width:100%;height:auto}\n"
    "figcaption{font-size:.9em;color:#555}\n"
    ".lesson{padding:.6em .9em;margin:1em 0;border-left:6px solid #999;background:#f7f7f7}\n"
    ".confirmed{border-color:#009E73;background:#eef8f4}.not_reproduced{border-color:#D55E00;"
    "background:#fcf0ea}\n"
    ".skipped{border-color:#999}code{background:#eee;padding:0 .2em}\n";

static void html_block(FILE *f, const lab_doc *d, json_t *b)
{
    const char *type = json_string_value(json_object_get(b, "type"));
    if (!type)
        return;
    if (!strcmp(type, "heading")) {
        fputs("<h3>", f);
        html_inline(f, json_string_value(json_object_get(b, "text")));
        fputs("</h3>\n", f);
    } else if (!strcmp(type, "text")) {
        fputs("<p>", f);
        html_inline(f, json_string_value(json_object_get(b, "text")));
        fputs("</p>\n", f);
    } else if (!strcmp(type, "table")) {
        json_t *h = json_object_get(b, "header"), *rows = json_object_get(b, "rows"),
               *text = json_object_get(b, "text"), *c;
        size_t i, j;
        fputs("<table>\n<tr>", f);
        json_array_foreach(h, i, c) {
            fputs("<th>", f);
            html_inline(f, json_string_value(c));
            fputs("</th>", f);
        }
        fputs("</tr>\n", f);
        json_t *row;
        json_array_foreach(text, i, row) {
            fputs("<tr>", f);
            json_array_foreach(row, j, c) {
                json_t *v = json_array_get(json_array_get(rows, i), j);
                fputs(json_is_number(v) ? "<td class=\"num\">" : "<td>", f);
                html_inline(f, json_string_value(c));
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    } else if (!strcmp(type, "figure")) {
        json_int_t k = json_integer_value(json_object_get(b, "index"));
        const char *svg = k >= 0 && k < d->n_figures ? d->svg[k] : NULL;
        if (svg && !strncmp(svg, "<?xml", 5)) { /* inline SVG takes no XML declaration */
            const char *e = strstr(svg, "?>");
            svg = e ? e + 2 : svg;
            while (*svg == '\n')
                svg++;
        }
        fputs("<figure class=\"chart\" id=\"fig-", f);
        html_escape(f, json_string_value(json_object_get(b, "id")));
        fputs("\">\n", f);
        if (svg)
            fputs(svg, f);
        fputs("<figcaption>", f);
        html_inline(f, json_string_value(json_object_get(b, "caption")));
        fputs("</figcaption>\n</figure>\n", f);
    } else if (!strcmp(type, "lesson")) {
        const char *status = json_string_value(json_object_get(b, "status"));
        fprintf(f, "<div class=\"lesson %s\"><strong>Lesson: ", status);
        html_inline(f, json_string_value(json_object_get(b, "title")));
        fprintf(f, ": %s.</strong> ",
                !strcmp(status, "confirmed") ? "confirmed" : !strcmp(status, "skipped") ? "skipped" : "NOT reproduced");
        html_inline(f, json_string_value(json_object_get(b, "evidence")));
        fputs("</div>\n", f);
    }
}

nninit_status doc_html(lab_doc *d, const nninit_lab_summary *s, char **html, nninit_err *err)
{
    *html = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for report.html");
    const char *title = json_string_value(json_object_get(d->root, "title"));
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    html_escape(f, title ? title : "nninit lab");
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", CSS);
    html_escape(f, title ? title : "nninit lab");
    fputs("</h1>\n", f);
    json_t *sec;
    size_t i, j;
    json_array_foreach(json_object_get(d->root, "sections"), i, sec) {
        const char *name = json_string_value(json_object_get(sec, "name"));
        if (i > 0) {
            fputs("<section id=\"", f);
            html_escape(f, name ? name : "");
            fputs("\">\n<h2>", f);
            html_inline(f, json_string_value(json_object_get(sec, "title")));
            fputs("</h2>\n", f);
        }
        json_t *b;
        json_array_foreach(json_object_get(sec, "blocks"), j, b) html_block(f, d, b);
        if (i > 0)
            fputs("</section>\n", f);
    }
    int confirmed = 0, checked = 0;
    for (int k = 0; k < s->n_lessons; k++) {
        checked += s->lessons[k].checked;
        confirmed += s->lessons[k].confirmed;
    }
    fprintf(f, "<section id=\"summary\">\n<h2>Summary: %d of %d checked lessons confirmed</h2>\n<table>\n"
               "<tr><th>experiment</th><th>lesson</th><th>verdict</th></tr>\n", confirmed, checked);
    for (int k = 0; k < s->n_lessons; k++) {
        const nninit_lab_lesson *l = &s->lessons[k];
        fputs("<tr><td>", f);
        html_escape(f, l->experiment);
        fputs("</td><td>", f);
        html_escape(f, l->title);
        fprintf(f, "</td><td class=\"%s\">%s</td></tr>\n", status_name(l), status_text(l));
    }
    fputs("</table>\n<p>Rerun: <code>", f);
    html_escape(f, s->rerun);
    fputs("</code></p>\n</section>\n</body>\n</html>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(buf);
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for report.html");
    }
    *html = buf;
    return NNINIT_OK;
}

static nninit_status write_text(const char *dir, const char *name, const char *text, nninit_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return nninit_file_write(path, text, strlen(text), err);
}

nninit_status doc_write(lab_doc *d, const nninit_lab_summary *s, const char *out_dir, nninit_err *err)
{
    if (!d->md || fflush(d->md) != 0 || ferror(d->md) || d->oom)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the report");
    if (!out_dir)
        return NNINIT_OK;
    char *json = NULL, *html = NULL;
    nninit_status st = write_text(out_dir, "report.md", d->md_buf ? d->md_buf : "", err);
    if (st == NNINIT_OK)
        st = doc_html(d, s, &html, err);
    if (st == NNINIT_OK)
        st = write_text(out_dir, "report.html", html, err);
    if (st == NNINIT_OK)
        st = doc_json(d, s, &json, err);
    if (st == NNINIT_OK)
        st = write_text(out_dir, "lab.json", json, err);
    free(json);
    free(html);
    return st;
}
