"""Pictures to MNIST-style digits: NumPy, Pillow, SciPy and scikit-image, no TensorFlow.

``greyscale``
    a picture file, Pillow image or array to greyscale pixels in [0, 1];
``mnist_style``
    the ink of one digit to the 28x28 image MNIST would have made of it;
``segmentation``
    the ink of a written number to one piece per digit.
"""
