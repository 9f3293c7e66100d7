"""The bottom layer: plain tables every other package may import; it imports nothing else of the package.

- `skeletons`: joint orders, flip pairs, bones, OKS sigmas, and the joint maps between skeletons;
- `methods`: the paper's methods (named constants `R1`, `H1`, ..., `ISTAR`) and the targets each trains on;
- `h36m_protocols`: the Human3.6M evaluation protocols (subjects, metric, frame step) and action names;
- `crop_mapping`: crop pixels <-> original-image pixels through the parser's affine matrices (numpy).

Pure Python / numpy: importing it loads neither TensorFlow nor Keras. docs/architecture.md draws the layers.
"""
