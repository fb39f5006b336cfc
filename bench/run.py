"""All benchmarks: python -m bench.run (make bench). Figures go to docs/benchmarks.md by hand."""

from bench import pwa_size, roster_import, sync_cost

if __name__ == "__main__":
    print("== phone app size ==")
    pwa_size.main()
    print("\n== sync ==")
    sync_cost.main()
    print("\n== roster import ==")
    roster_import.main()
