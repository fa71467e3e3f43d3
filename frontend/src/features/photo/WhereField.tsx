import { WHERE_LABELS, type DeviceState, type Where } from "../../device/where";
import { Segmented } from "../../components/Segmented";

const OPTIONS = (["auto", "device", "server"] as const).map((value) => ({ value, label: WHERE_LABELS[value] }));

export function describeDevice(device: DeviceState): string {
  if (device.state === "ready") {
    return device.backend === "webgpu"
      ? "This device can stylize with its graphics card (WebGPU): your photo stays here."
      : `This device can stylize with WebAssembly (${device.threads} thread${device.threads === 1 ? "" : "s"}): choose On this device to keep your photo here. Auto uses it once it has proven fast.`;
  }
  if (device.state === "unavailable") return `This browser cannot stylize by itself (${device.reason}); the server does it.`;
  return "Auto uses the server, the quickest first answer, unless this device has proven fast (or has WebGPU).";
}

export function WhereField({ where, device, onWhere }: { where: Where; device: DeviceState; onWhere(where: Where): void }) {
  return (
    <Segmented name="where" legend="Where it runs" options={OPTIONS} value={where} onChange={onWhere} hint={describeDevice(device)} />
  );
}
