"""Reports: donor and portfolio PDFs, board packs, open-data files and spreadsheet exports."""
