// examples/tests/image_tool.cpp - image checks and inputs for the detect_faces tests.
//
//   image_tool size FILE                       prints "WIDTH HEIGHT CHANNELS" of a decodable image
//   image_tool paste IN OUT W H X Y            IN pasted at (X, Y) on a grey W x H canvas, saved as OUT
#include <cstdio>
#include <cstdlib>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "image_tool: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "size" && argc == 3) {
    const cv::Mat image = cv::imread(argv[2], cv::IMREAD_UNCHANGED);
    if (image.empty()) return fail(std::string("cannot decode '") + argv[2] + "'");
    std::printf("%d %d %d\n", image.cols, image.rows, image.channels());
    return 0;
  }
  if (cmd == "paste" && argc == 8) {
    const cv::Mat image = cv::imread(argv[2], cv::IMREAD_COLOR);
    if (image.empty()) return fail(std::string("cannot decode '") + argv[2] + "'");
    const int w = std::atoi(argv[4]), h = std::atoi(argv[5]), x = std::atoi(argv[6]), y = std::atoi(argv[7]);
    if (x < 0 || y < 0 || x + image.cols > w || y + image.rows > h) return fail("the image does not fit the canvas");
    cv::Mat canvas(h, w, CV_8UC3, cv::Scalar(90, 90, 90));
    image.copyTo(canvas(cv::Rect(x, y, image.cols, image.rows)));
    if (!cv::imwrite(argv[3], canvas)) return fail(std::string("cannot write '") + argv[3] + "'");
    return 0;
  }
  return fail("usage: image_tool size FILE | image_tool paste IN OUT W H X Y");
}
