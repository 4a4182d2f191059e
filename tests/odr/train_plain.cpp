#include "train.hpp"

odr::Trained odr::train_plain(const scratchnet::Matrix<float>& X, const scratchnet::Labels& y) { return train(X, y); }
