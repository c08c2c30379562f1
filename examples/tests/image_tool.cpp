// examples/tests/image_tool.cpp - image checks and inputs for the detect_faces tests.
//
//   image_tool size FILE                       prints "WIDTH HEIGHT CHANNELS" of a decodable image
//   image_tool paste IN OUT W H X Y            IN pasted at (X, Y) on a grey W x H canvas, saved as OUT
//   image_tool stats FILE                      prints "MEAN STDDEV" of all its values (rounded integers)
//   image_tool warp_diff IN CROP M00 M01 M02 M10 M11 M12
//                                              IN warped by the 2x3 matrix to CROP's size as insightface's
//                                              norm_crop (cv::warpAffine, bilinear, constant border 0) and
//                                              compared with CROP: prints "MAX MEAN_MILLI", the largest
//                                              absolute difference and the mean one in thousandths
#include <cstdio>
#include <cstdlib>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

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
  if (cmd == "stats" && argc == 3) {
    const cv::Mat image = cv::imread(argv[2], cv::IMREAD_UNCHANGED);
    if (image.empty()) return fail(std::string("cannot decode '") + argv[2] + "'");
    cv::Scalar mean, stddev;
    cv::meanStdDev(image.reshape(1), mean, stddev);
    std::printf("%d %d\n", cvRound(mean[0]), cvRound(stddev[0]));
    return 0;
  }
  if (cmd == "warp_diff" && argc == 10) {
    const cv::Mat image = cv::imread(argv[2], cv::IMREAD_COLOR);
    const cv::Mat crop = cv::imread(argv[3], cv::IMREAD_COLOR);
    if (image.empty() || crop.empty()) return fail("cannot decode the image or the crop");
    cv::Mat m(2, 3, CV_64F);
    for (int i = 0; i < 6; ++i) {
      char* end = nullptr;
      m.at<double>(i / 3, i % 3) = std::strtod(argv[4 + i], &end);
      if (end == argv[4 + i] || *end != '\0') return fail(std::string("not a number: '") + argv[4 + i] + "'");
    }
    cv::Mat expected, diff;
    cv::warpAffine(image, expected, m, crop.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
    cv::absdiff(expected, crop, diff);
    double max_diff = 0;
    cv::minMaxLoc(diff.reshape(1), nullptr, &max_diff);
    std::printf("%d %d\n", cvRound(max_diff), cvRound(1000.0 * cv::mean(diff.reshape(1))[0]));
    return 0;
  }
  return fail("usage: image_tool size FILE | image_tool paste IN OUT W H X Y | image_tool stats FILE | "
              "image_tool warp_diff IN CROP M00 M01 M02 M10 M11 M12");
}
