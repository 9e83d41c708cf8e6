/* Butteraugli through libjxl's public API (metrics.h; docs/metrics.md#butteraugli).
 *
 * libjxl interprets 8-bit RGB buffers as sRGB (JxlButteraugliCompute: ColorEncoding::SRGB for
 * integer sample types) and converts them to linear light itself, which is what we want for
 * decoded 8-bit images. An API instance is created per call: that costs about 0.1 us against
 * about 5 ms for the computation on a 32x32 image (measured with libjxl 0.7), and keeps the
 * function free of shared state, so worker threads need no coordination. */
#include "metrics.h"
#include "metrics_internal.h"

#include <errno.h>
#include <jxl/butteraugli.h>
#include <jxl/decode.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>

int metrics_butteraugli_rgb8(const uint8_t *a, const uint8_t *b, int width, int height, double *max,
                             double *pnorm3) {
  *max = *pnorm3 = NAN;
  if (metrics_check_args(a, b, width, height))
    return -1;
  if ((uint64_t)width > UINT32_MAX || (uint64_t)height > UINT32_MAX) {
    errno = EINVAL;
    return -1;
  }
  /* libjxl's comparator gives 0 for any pair below 8 px on a side (it does not compute them),
   * which would read as "identical": report no value instead. */
  if (width < METRICS_BUTTERAUGLI_MIN_SIDE || height < METRICS_BUTTERAUGLI_MIN_SIDE)
    return 0;
  JxlButteraugliApi *api = JxlButteraugliApiCreate(NULL);
  if (!api) {
    errno = ENOMEM;
    return -1;
  }
  /* butteraugli_main's settings, so that the values are the ones people quote from the tool
   * (and the oracle test can compare with it): the API's own defaults differ (255 nits, hf
   * asymmetry 1.0) and give other values (+40 % max distance at 255 nits on a Kodak JPEG). */
  JxlButteraugliApiSetIntensityTarget(api, (float)METRICS_BUTTERAUGLI_INTENSITY_TARGET);
  JxlButteraugliApiSetHFAsymmetry(api, (float)METRICS_BUTTERAUGLI_HF_ASYMMETRY);
  const JxlPixelFormat fmt = {3, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
  const size_t bytes = (size_t)width * (size_t)height * 3;
  JxlButteraugliResult *res =
      JxlButteraugliCompute(api, (uint32_t)width, (uint32_t)height, &fmt, a, bytes, &fmt, b, bytes);
  int rc = -1;
  if (res) {
    *max = JxlButteraugliResultGetMaxDistance(res);
    *pnorm3 = JxlButteraugliResultGetDistance(res, 3.0f);
    JxlButteraugliResultDestroy(res);
    rc = 0;
  } else {
    errno = ENOMEM; /* the API says only that it could not compute (allocation, in practice) */
  }
  JxlButteraugliApiDestroy(api);
  return rc;
}

/* The version of the library linked, not only of the headers compiled against; written once. */
static char g_version[48];
static pthread_once_t g_version_once = PTHREAD_ONCE_INIT;

static void version_once(void) {
  const uint32_t v = JxlDecoderVersion();
  snprintf(g_version, sizeof g_version, "libjxl %u.%u.%u", (unsigned)(v / 1000000),
           (unsigned)(v / 1000 % 1000), (unsigned)(v % 1000));
}

const char *metrics_butteraugli_version(void) {
  pthread_once(&g_version_once, version_once);
  return g_version;
}
