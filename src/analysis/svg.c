/* A tiny dependency-free SVG line-plot writer: panels side by side, each with
 * axes, ticks, a legend and one polyline per series (linear or log10 axes). */
#include "core/internal.h"
#include "nninit_analysis.h"
#include "nninit_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PANEL_W 520.0
#define PANEL_H 380.0
#define M_LEFT 70.0
#define M_RIGHT 20.0
#define M_TOP 34.0
#define M_BOTTOM 50.0

/* Colour-blind-safe palette (Okabe & Ito 2008) plus greys. */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
                                      "#56B4E9", "#000000", "#F0E442", "#999999", "#882255"};
#define N_COLORS (sizeof palette / sizeof palette[0])

/* The drawing is printed into the library's growable string; a short name
 * for its printf keeps the SVG templates on one line each. */
#define put(...) nninit__sb_printf(__VA_ARGS__)

/* Text with &, <, >, " escaped. */
static void put_text(nninit__sb *b, const char *t)
{
    for (; t && *t; t++) {
        switch (*t) {
        case '&': put(b, "&amp;"); break;
        case '<': put(b, "&lt;"); break;
        case '>': put(b, "&gt;"); break;
        case '"': put(b, "&quot;"); break;
        default: put(b, "%c", *t);
        }
    }
}

typedef struct axis {
    int log;
    double lo, hi; /* in axis units (log10 when log) */
} axis;

static int to_axis(int log, double v, double *out)
{
    if (!isfinite(v) || (log && !(v > 0)))
        return 0;
    *out = log ? log10(v) : v;
    return 1;
}

/* Data range of one coordinate over every series, padded; [0, 1] if empty. */
static axis make_axis(const nninit_plot *p, int use_y, int log)
{
    axis a = {log, HUGE_VAL, -HUGE_VAL};
    for (int s = 0; s < p->n_series; s++) {
        const nninit_plot_series *ser = &p->series[s];
        for (int64_t i = 0; i < ser->n; i++) {
            double v, w;
            if (!to_axis(log, use_y ? ser->y[i] : ser->x[i], &v))
                continue;
            if (!to_axis(p->log_x, ser->x[i], &w) || !to_axis(p->log_y, ser->y[i], &w))
                continue; /* the point is not drawn */
            a.lo = fmin(a.lo, v), a.hi = fmax(a.hi, v);
        }
    }
    if (a.lo > a.hi)
        a.lo = 0, a.hi = 1;
    if (a.hi - a.lo < 1e-12 * fmax(1.0, fabs(a.hi))) {
        double d = log ? 0.5 : fmax(fabs(a.hi) * 0.1, 1e-9);
        a.lo -= d, a.hi += d;
    }
    if (log) {
        a.lo = floor(a.lo), a.hi = ceil(a.hi);
        if (a.hi - a.lo < 1)
            a.hi = a.lo + 1;
    } else {
        double pad = 0.04 * (a.hi - a.lo);
        a.lo -= pad, a.hi += pad;
    }
    return a;
}

/* A "nice" step (1, 2, 5 x 10^k) giving about 6 ticks over span. */
static double nice_step(double span)
{
    double raw = span / 6, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

#define LEGEND_ROW 16.0
#define MARK_MAX_POINTS 24 /* series with at most this many points get a marker at each */

/* Legend layout below the axes: columns of equal width, enough rows. */
static void legend_layout(const nninit_plot *p, int *n_labels, int *cols, int *rows)
{
    size_t longest = 0;
    *n_labels = 0;
    for (int s = 0; s < p->n_series; s++)
        if (p->series[s].label) {
            size_t n = strlen(p->series[s].label);
            longest = n > longest ? n : longest;
            ++*n_labels;
        }
    double entry = 34 + 6.2 * (double)longest, avail = PANEL_W - M_LEFT - M_RIGHT;
    *cols = (int)(avail / entry);
    *cols = *cols < 1 ? 1 : *cols > 3 ? 3 : *cols;
    *rows = (*n_labels + *cols - 1) / *cols;
}

static void panel(nninit__sb *b, const nninit_plot *p, double ox)
{
    axis ax = make_axis(p, 0, p->log_x), ay = make_axis(p, 1, p->log_y);
    if (p->x_integer && !p->log_x && ax.hi - ax.lo < 1.5) { /* one epoch: a readable span around it */
        double mid = 0.5 * (ax.lo + ax.hi);
        ax.lo = mid - 0.75, ax.hi = mid + 0.75;
    }
    double x0 = ox + M_LEFT, x1 = ox + PANEL_W - M_RIGHT, y0 = PANEL_H - M_BOTTOM, y1 = M_TOP;
#define PX(v) (x0 + ((v) - ax.lo) / (ax.hi - ax.lo) * (x1 - x0))
#define PY(v) (y0 + ((v) - ay.lo) / (ay.hi - ay.lo) * (y1 - y0))
    put(b, "<g class=\"panel\">\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
           "stroke=\"#444\"/>\n", x0, y1, x1 - x0, y0 - y1);
    if (p->title) {
        put(b, "<text x=\"%.1f\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">", 0.5 * (x0 + x1));
        put_text(b, p->title);
        put(b, "</text>\n");
    }
    for (int k = 0; k < 2; k++) {
        const axis *a = k ? &ay : &ax;
        double step = a->log ? fmax(1.0, floor((a->hi - a->lo) / 8) + 1) : nice_step(a->hi - a->lo);
        if (k == 0 && p->x_integer && !a->log)
            step = fmax(1.0, round(step));
        for (double t = ceil(a->lo / step - 1e-9) * step; t <= a->hi + 1e-9 * step; t += step) {
            char lab[32];
            if (a->log)
                snprintf(lab, sizeof lab, "1e%d", (int)lround(t));
            else
                snprintf(lab, sizeof lab, "%g", fabs(t) < 1e-12 * step ? 0.0 : t);
            if (k == 0)
                put(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.1f\" "
                       "y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%s</text>\n",
                    PX(t), y0, PX(t), y1, PX(t), y0 + 15, lab);
            else
                put(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.1f\" "
                       "y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%s</text>\n",
                    x0, PY(t), x1, PY(t), x0 - 4, PY(t) + 4, lab);
        }
    }
    if (p->xlabel) {
        put(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">", 0.5 * (x0 + x1),
            PANEL_H - 16);
        put_text(b, p->xlabel);
        put(b, "</text>\n");
    }
    if (p->ylabel) {
        put(b, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">",
            ox + 16, 0.5 * (y0 + y1));
        put_text(b, p->ylabel);
        put(b, "</text>\n");
    }
    int n_labels, cols, rows;
    legend_layout(p, &n_labels, &cols, &rows);
    double col_w = (x1 - x0) / cols;
    int li = 0;
    for (int s = 0; s < p->n_series; s++) {
        const nninit_plot_series *ser = &p->series[s];
        const char *col = palette[(size_t)(ser->color >= 0 ? ser->color : s) % N_COLORS];
        const char *dash = ser->dashed ? " stroke-dasharray=\"5,3\"" : "";
        int open = 0;
        put(b, "<g class=\"series\">");
        for (int64_t i = 0; i < ser->n; i++) {
            double vx, vy;
            if (!to_axis(p->log_x, ser->x[i], &vx) || !to_axis(p->log_y, ser->y[i], &vy)) {
                if (open)
                    put(b, "\"/>\n");
                open = 0;
                continue;
            }
            if (!open)
                put(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s points=\"", col, dash);
            put(b, "%s%.2f,%.2f", open ? " " : "", PX(vx), PY(vy));
            open = 1;
        }
        if (open)
            put(b, "\"/>\n");
        for (int64_t i = 0; ser->n <= MARK_MAX_POINTS && i < ser->n; i++) {
            double vx, vy;
            if (to_axis(p->log_x, ser->x[i], &vx) && to_axis(p->log_y, ser->y[i], &vy))
                put(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>", PX(vx), PY(vy),
                    ser->dashed ? "white" : col);
        }
        put(b, "</g>\n");
        if (ser->label) { /* the legend: below the axis label, off the data */
            double lx = x0 + col_w * (li % cols), ly = PANEL_H + 6 + LEGEND_ROW * (li / cols);
            li++;
            put(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.6\"%s/>"
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">",
                lx, ly, lx + 22, ly, col, dash, lx + 27, ly + 4);
            put_text(b, ser->label);
            put(b, "</text>\n");
        }
    }
    put(b, "</g>\n");
#undef PX
#undef PY
}

nninit_status nninit_svg_render(const nninit_plot *plots, int n_plots, char **svg, nninit_err *err)
{
    if (!svg)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_svg_render: NULL output");
    *svg = NULL;
    if (!plots || n_plots < 1)
        return nninit__err(err, NNINIT_EINVAL, "svg: no panel to draw; give at least one plot");
    for (int i = 0; i < n_plots; i++)
        for (int s = 0; s < plots[i].n_series; s++)
            if (plots[i].series[s].n < 0 || (plots[i].series[s].n > 0 && (!plots[i].series[s].x ||
                                                                           !plots[i].series[s].y)))
                return nninit__err(err, NNINIT_EINVAL, "svg: panel %d series %d has no data arrays", i, s);
    nninit__sb b = NNINIT__SB_INIT;
    double w = PANEL_W * n_plots;
    int max_rows = 0;
    for (int i = 0; i < n_plots; i++) {
        int n_labels, cols, rows;
        legend_layout(&plots[i], &n_labels, &cols, &rows);
        max_rows = rows > max_rows ? rows : max_rows;
    }
    double h = PANEL_H + (max_rows ? 8 + LEGEND_ROW * max_rows : 0);
    put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
            "class=\"nninit-plot\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
        w, h, w, h);
    for (int i = 0; i < n_plots; i++)
        panel(&b, &plots[i], PANEL_W * i);
    put(&b, "</svg>\n");
    *svg = nninit__sb_take(&b);
    if (!*svg)
        return nninit__err(err, NNINIT_ENOMEM, "svg: out of memory");
    return NNINIT_OK;
}

nninit_status nninit_svg_write(const char *path, const nninit_plot *plots, int n_plots, nninit_err *err)
{
    char *s = NULL;
    nninit_status st = nninit_svg_render(plots, n_plots, &s, err);
    if (st != NNINIT_OK)
        return st;
    st = nninit_file_write(path, s, strlen(s), err);
    free(s);
    return st;
}
