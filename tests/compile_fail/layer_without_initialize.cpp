// A layer with a parameter but no initialize(Rng&, Init): the message names the missing part.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;

struct Scale {  // y = a x, one learned a
    static constexpr sn::Index inputs = 0, outputs = 0, parameter_count = 1;
    static std::string name() { return "Scale"; }
    void attach(float* a) { a_ = a; }
    void forward(const sn::BatchView<float>& X, sn::Matrix<float>& Y, sn::NoScratch&, const sn::Pass&) const {
        Y = *a_ * X;
    }
    void backward(const sn::BatchView<float>& X, const sn::Matrix<float>& dY, sn::Matrix<float>* dX, float* g,
                  sn::NoScratch&, const sn::Pass&) const {
        g[0] = X.cwiseProduct(dY).sum();
        if (dX != nullptr) *dX = *a_ * dY;
    }
    float* a_ = nullptr;
};

int main() { sn::Network<sn::Dense<2, 2>, Scale, sn::Softmax, sn::CrossEntropy> net(1); }
