# a real Dask cluster: a scheduler and a worker started with Dask's own commands (here on
# this machine, on a free port; on a cluster: `dask scheduler` on the head node and
# `dask worker tcp://HEAD:8786` on each machine that has actc installed)
dask scheduler --port 0 --no-dashboard --scheduler-file cluster.json > scheduler.log 2>&1 &
scheduler=$!
dask worker --scheduler-file cluster.json --nthreads 1 --no-dashboard > worker.log 2>&1 &
worker=$!
trap 'kill $worker $scheduler' EXIT
for _ in $(seq 300); do [ -s cluster.json ] && break; sleep 0.1; done
address=$(python3 -c "import json; print(json.load(open('cluster.json'))['address'])")
actc sweep space.toml -o cluster-out/ --scheduler "$address"
# the results do not depend on where the points ran
cmp sweep-out/results.csv cluster-out/results.csv && echo "same results as the local cluster"
