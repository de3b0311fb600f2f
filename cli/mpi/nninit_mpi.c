/* nninit-mpi: `mpirun -np N nninit-mpi model ...` writes the file `nninit
 * model ...` writes, byte for byte, with the work split across the ranks
 * (nninit_model_job_*: rank 0 lays out the file(s) and reserves the space,
 * every rank generates its byte-balanced share of the chunks and writes it at
 * its offsets, the npz checksums are OR-merged on rank 0, which renames the
 * files in only when every rank succeeded). Options, inputs and messages are
 * nninit model's; only rank 0 prints.
 *
 * A torch generator is one sequential stream (each draw depends on all
 * before it), so rank 0 runs a torch job alone: another rank would have to
 * replay every earlier draw to find its starting point, costing what the
 * whole job costs. */
#include "cli.h"

#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct mpi_ctx {
    int rank, size;
} mpi_ctx;

/* Waits for a non-blocking collective without spinning. OpenMPI's blocking
 * collectives busy-poll: a rank done with its share (or every rank but 0
 * under --rng torch) would take a core from the ranks still generating and
 * from the kernel writing their pages back. */
static void wait_quietly(MPI_Request *req)
{
    const struct timespec nap = {0, 500000}; /* 0.5 ms: nothing next to a chunk's write */
    int done = 0;
    MPI_Test(req, &done, MPI_STATUS_IGNORE);
    while (!done) {
        nanosleep(&nap, NULL);
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
    }
}

/* Every rank learns whether all succeeded; if not, every rank gets the
 * first failing rank's status and message (rank 0 prints it). */
static nninit_status agree(const mpi_ctx *c, nninit_status s, nninit_err *err)
{
    int mine = s != NNINIT_OK ? c->rank : c->size, first;
    MPI_Request req;
    MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req);
    wait_quietly(&req);
    if (first == c->size)
        return NNINIT_OK;
    int code = (int)s;
    char msg[NNINIT_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg[0] ? err->msg : nninit_status_str(s));
    MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
    MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, MPI_COMM_WORLD);
    if (c->rank != first) {
        err->code = (nninit_status)code;
        err->sys_errno = 0;
        if (first == 0)
            snprintf(err->msg, sizeof err->msg, "%s", msg);
        else
            snprintf(err->msg, sizeof err->msg, "rank %d: %.*s", first, (int)sizeof err->msg - 16, msg);
    }
    return (nninit_status)code;
}

static nninit_status mpi_write(const nninit_model *m, const char *path, const nninit_model_opts *opts, void *user,
                               nninit_err *err)
{
    const mpi_ctx *c = user;
    nninit_model_job *job = NULL;
    char *handle = NULL;
    nninit_model_opts o = *opts;
    if (c->rank != 0)
        o.progress = NULL;
    nninit_status s = agree(c, nninit_model_job_new(m, path, &o, &job, err), err);
    if (!s && c->rank == 0)
        s = nninit_model_job_create(job, &handle, err);
    if ((s = agree(c, s, err)) == NNINIT_OK) { /* the temporaries' names to every rank */
        int len = c->rank == 0 ? (int)strlen(handle) + 1 : 0;
        MPI_Bcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (c->rank != 0 && !(handle = malloc((size_t)len)))
            MPI_Abort(MPI_COMM_WORLD, CLI_EXIT_FAIL); /* a collective cannot go on with one rank short */
        MPI_Bcast(handle, len, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (c->rank != 0)
            s = nninit_model_job_attach(job, handle, err);
        s = agree(c, s, err);
    }
    if (!s) {
        size_t begin, end;
        nninit_model_job_share(job, c->rank, c->size, &begin, &end);
        s = agree(c, nninit_model_job_run(job, begin, end, err), err);
    }
    if (!s) { /* each unit's CRC comes from the one rank that wrote it, 0 elsewhere: OR merges them */
        size_t n = nninit_model_job_units(job);
        uint32_t *mine = nninit_model_job_checksums(job), *merged = c->rank == 0 ? malloc(n * sizeof *merged + 4) : NULL;
        if (c->rank == 0 && !merged)
            MPI_Abort(MPI_COMM_WORLD, CLI_EXIT_FAIL);
        {
            for (size_t at = 0; at < n;) { /* MPI counts are int */
                int k = n - at > (1u << 30) ? 1 << 30 : (int)(n - at);
                MPI_Request req;
                MPI_Ireduce(mine + at, merged ? merged + at : NULL, k, MPI_UINT32_T, MPI_BOR, 0, MPI_COMM_WORLD, &req);
                wait_quietly(&req);
                at += (size_t)k;
            }
            if (c->rank != 0) /* the others' writes durable before rank 0 renames the files in */
                s = nninit_model_job_finish(job, NULL, err);
            if (!(s = agree(c, s, err)) && c->rank == 0)
                s = nninit_model_job_finish(job, merged, err);
            s = agree(c, s, err);
        }
        free(merged);
    }
    nninit_model_job_free(job); /* rank 0, before a successful finish: removes the temporaries */
    free(handle);
    return s;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mpirun -np N nninit-mpi model (--keras FILE | --torch RECIPE | --spec FILE) -o OUT [options]\n"
               "\n"
               "The file 'nninit model' writes, byte for byte, with the work split across N MPI ranks\n"
               "(safetensors, sharded or not, and npz; a shared file system for several machines).\n"
               "Options: see 'nninit model --help'. --threads applies to each rank. With --rng torch\n"
               "rank 0 does the whole job (PyTorch's stream is sequential).\n");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    mpi_ctx c;
    MPI_Comm_rank(MPI_COMM_WORLD, &c.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c.size);
    if (c.rank != 0) { /* the same options give the same messages: rank 0 prints them (and the others' errors) */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDERR_FILENO);
            dup2(null, STDOUT_FILENO);
            close(null);
        }
    }
    int rc;
    if (argc < 2 || strcmp(argv[1], "model")) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            usage(stdout);
            rc = CLI_EXIT_OK;
        } else {
            usage(stderr);
            rc = CLI_EXIT_USAGE;
        }
    } else {
        cli_install_signals();
        rc = cli_model_main(argc - 1, argv + 1, mpi_write, &c);
    }
    /* Every rank reaches the same rc (options parse alike; write failures are
     * agreed on). Only rank 0 exits with it: mpirun stops the job when any
     * rank exits non-zero, which would interrupt rank 0's cleanup and report. */
    MPI_Request req;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    wait_quietly(&req);
    MPI_Finalize();
    return c.rank == 0 ? rc : CLI_EXIT_OK;
}
