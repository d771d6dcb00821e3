"""Generated models, one module per spec in spec/ (see ``alexnet.load_model``)."""
