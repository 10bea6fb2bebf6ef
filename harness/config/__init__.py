"""The config schemas behind ``conf/``: the training root (``schema``) and evaluation (``eval``)."""
