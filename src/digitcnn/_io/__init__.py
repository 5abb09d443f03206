"""Files: MNIST's, the model file's format, and exports.

``mnist_files``
    IDX files, Keras-style ``.npz`` and Keras's download (``load_mnist``);
``model_file``
    the ``.keras`` archive with digitcnn's metadata: its schema, written and read;
``export``
    SavedModel and TensorFlow Lite files written.
"""
