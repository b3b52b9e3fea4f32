# an embedded local Dask cluster of two workers; the sweep resumes if started again
actc sweep space.toml -o sweep-out/ --workers 2
# the cheapest design in ROM bits within 2 LSB, per expression and formats
actc pick sweep-out/ --max-error-lsb 2 --minimize memory
