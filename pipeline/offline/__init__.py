"""`gatewatch analyze`: recorded footage, one file or a night of an NVR export, on this box or a
Ray cluster; the same stages as `serve`, fed by files.

    footage.py   which camera each file is, in what order, chains and gaps; the results' digest
    prepare.py   before a chain: the config's registrations stored, the ones that may excuse it read
    chain.py     one camera's files analysed as one recording, each file's result handed on
    results.py   the one writer: evidence files, then rows in one transaction
    analyze.py   one file: probe, prepare, chain, write; the summary
    batch.py     many files: chains on worker processes, progress, the summary per camera
    cluster.py   a batch's chains as Ray tasks
"""
