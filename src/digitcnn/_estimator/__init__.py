"""The classifiers: the hyperparameter API, the shared prediction and reading base, the two models.

``params``
    scikit-learn's ``get_params``/``set_params`` (``ParamsMixin``);
``base``
    ``BaseDigitClassifier``: ``predict``, ``evaluate``, ``read_digits`` and the
    rest, from one batch forward pass;
``readings``
    what was read from pictures (``ImageReading``, ``DigitString``) and the
    loops that read it;
``classifier``
    ``DigitClassifier``, the Keras network trained, saved and exported;
``tflite``
    ``TFLiteClassifier``, an exported TensorFlow Lite file run.
"""
