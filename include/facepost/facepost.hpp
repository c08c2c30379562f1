// facepost/facepost.hpp - everything: include this one header.
#pragma once

#include "facepost/anchors.hpp"
#include "facepost/backend.hpp"
#include "facepost/decode.hpp"
#include "facepost/detections.hpp"
#include "facepost/error.hpp"
#include "facepost/filter.hpp"
#include "facepost/iou.hpp"
#include "facepost/nms.hpp"
#include "facepost/params.hpp"
#include "facepost/postprocessor.hpp"
#include "facepost/priors.hpp"
#include "facepost/rank.hpp"
#include "facepost/scores.hpp"
#include "facepost/tensor.hpp"
#include "facepost/version.hpp"
#include "facepost/workspace.hpp"
