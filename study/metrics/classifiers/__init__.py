"""Classifiers of the GAN-train / GAN-test measures: a 28×28 convnet, 32×32 pre-activation ResNets (32, 18), their
training protocol, and the cache of classifiers trained on real data."""
from gan_study.study.metrics.classifiers.cache import CachedClassifier, real_classifier
from gan_study.study.metrics.classifiers.convnet import ConvNet
from gan_study.study.metrics.classifiers.preact_resnet import PreActResNet
from gan_study.study.metrics.classifiers.protocol import ClassifierOptions, build_network
from gan_study.study.metrics.classifiers.training import accuracy, crop_and_flip, predict, train_classifier

__all__ = ["CachedClassifier", "ClassifierOptions", "ConvNet", "PreActResNet", "accuracy", "build_network",
           "crop_and_flip", "predict", "real_classifier", "train_classifier"]
