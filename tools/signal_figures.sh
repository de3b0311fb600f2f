#!/bin/sh
# Regenerates the figures and tables of docs/signal.md (about a minute on 2
# cores). Usage: sh tools/signal_figures.sh [path/to/nninit]
set -eu
N=${1:-build/nninit}
INITS="RandomNormal(stddev=0.05),glorot_uniform,he_normal,orthogonal"
for act in tanh relu; do
    "$N" probe --depth 50 --width 512 --act $act --init "$INITS" --theory --threads 1 \
        --svg docs/signal_$act.svg >docs/signal_$act.txt
done
"$N" theory --act tanh --phase-diagram --svg docs/phase_tanh.svg >docs/phase_tanh.txt
# dynamical isometry: tanh on the critical line at sigma_b^2 = 2.5e-5 (q* = 0.028),
# inputs scaled to start at q*, orthogonal vs Gaussian weights of the same variance
"$N" probe --depth 50 --width 512 --act tanh --input-scale 0.16724803 --threads 1 \
    --init 'Orthogonal(gain=1.02655391),VarianceScaling(scale=1.053812927, mode="fan_in", distribution="untruncated_normal")' \
    --bias-init 'RandomNormal(stddev=0.005)' --jacobian --jacobian-samples 2 --bins 12 >docs/isometry_tanh.txt
# real inputs: a Fashion-MNIST batch with cross-entropy (needs dataset-fashion-mnist)
"$N" probe --input data --grad xent --depth 10 --width 256 --act relu --threads 1 \
    --init 'he_normal,glorot_uniform,RandomNormal(stddev=0.05)' --theory --train-steps 5 >docs/signal_fashion_relu.txt
