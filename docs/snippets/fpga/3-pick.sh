# map the candidates (one local Dask worker), then pick the cheapest within 1 LSB
actc sweep budget.toml -o sweep-out/ --workers 1
actc pick sweep-out/ --max-error-lsb 1 --minimize luts
