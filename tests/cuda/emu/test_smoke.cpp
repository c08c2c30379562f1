#include "support.hpp"
TEST_CASE("smoke") {
  emu_test::Totals t;
  const fixtures::Fixture& fx = emu_test::fixture("group_mnet_long640");
  const emu_test::HostFrame frame = emu_test::load_frame(fx.name);
  facepost::cuda::CudaPostprocessor gpu(fx.anchors);
  emu_test::check_batch<float>(gpu, {&frame}, fx.anchors, fx.input, emu_test::fixture_mapping(fx), facepost::Params{}, "smoke", t);
  emu_test::report("smoke", t);
}
TEST_CASE("smoke2") {
  WARN("launches " << facepost_emu::launch_count() << " blocks " << facepost_emu::block_count() << " syncs " << facepost_emu::sync_count());
  for (auto& r : facepost_emu::shared_variables()) WARN(r.name << " " << r.bytes);
}
