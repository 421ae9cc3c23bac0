# Every GPU check and benchmark in one go, for a machine with a CUDA GPU: bash benchmarks/run_gpu_checks.sh
set -x
export PYTHONPATH=$PWD
nvidia-smi --query-gpu=name --format=csv,noheader
python benchmarks/check_stats_gpu.py
python benchmarks/bench_stats.py --device cuda --rounds 5 --batches 8 --batch 32
python benchmarks/bench_stats.py --device cuda --rounds 5 --batches 4 --batch 8
python benchmarks/bench_verify.py --device cuda --rounds 3 2>&1 | tail -8
python benchmarks/check_verify_gpu.py 2>&1 | tail -8
python benchmarks/bench_blindspots.py --device cuda --rounds 3
