"""Frame I/O, dataset layouts, training targets and the windowed dataset."""
