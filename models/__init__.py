"""The fixed InfoGAN-style networks and the GAN losses of the study. No I/O, no configs."""
