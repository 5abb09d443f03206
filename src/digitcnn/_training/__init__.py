"""Training: the networks, the recipes, the data pipeline that feeds ``fit``, checkpoints.

``networks``
    the architectures, the optimizer and ``compiled_model``, the network
    that ``fit`` trains (benchmarks build theirs with it too);
``recipes``
    the named settings (``RECIPES``) and their checks;
``pipeline``
    arrays or a ``tf.data.Dataset`` checked and prepared for Keras's ``fit``;
``checkpoint``
    the per-epoch checkpoint that lets an interrupted training resume.
"""
