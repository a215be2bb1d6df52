//! HDR to SDR: the filters that map a PQ or HLG source's pictures to BT.709
//! (pure, unit-tested), and whether this ffmpeg has them.

use crate::process;
use slicecast_core::job::ToneMap;
use slicecast_core::source_info::Transfer;
use std::ffi::OsString;
use std::time::Duration;
use tokio::sync::OnceCell;

/// The filter chain, ending in a comma, that turns an HDR source's pictures
/// into 8-bit BT.709 ones; empty for SDR. zscale turns the signal into
/// linear light (100 nits = 1.0) in BT.2020, then into BT.709 primaries;
/// `tonemap` (Möbius: linear through the mid-tones, highlights rolled off
/// toward the peak the frames' HDR metadata gives, or the curve's nominal
/// one) fits the highlights into SDR, and zscale encodes the result with
/// the BT.709 curve, matrix and limited range, tagged so. The source's
/// primaries and matrix are taken as BT.2020, as both HDR standards have
/// them, whatever its tags say.
pub fn tone_map_filter(t: &ToneMap) -> String {
    let tin = match t.from {
        Transfer::Sdr => return String::new(),
        Transfer::Pq => "smpte2084",
        Transfer::Hlg => "arib-std-b67",
    };
    let rin = if t.full_range { "full" } else { "limited" };
    format!(
        "zscale=tin={tin}:pin=bt2020:min=bt2020nc:rin={rin}:t=linear:npl=100,format=gbrpf32le,\
         zscale=p=bt709,tonemap=tonemap=mobius:desat=0,\
         zscale=t=bt709:m=bt709:r=limited,format=yuv420p,"
    )
}

/// True when this ffmpeg has the filters [`tone_map_filter`] uses (they need
/// ffmpeg built with zimg, as Debian's is). Asked once per process; a build
/// without them encodes HDR sources untouched (tagged as the source is)
/// rather than failing them.
pub async fn can_tone_map() -> bool {
    static AVAILABLE: OnceCell<bool> = OnceCell::const_new();
    *AVAILABLE
        .get_or_init(|| async {
            let args: Vec<OsString> = ["-hide_banner", "-filters"].map(OsString::from).into();
            match process::run(&crate::ffmpeg_bin(), &args, Duration::from_secs(20)).await {
                Ok(out) => has_filters(&String::from_utf8_lossy(&out.stdout)),
                Err(_) => false,
            }
        })
        .await
}

/// Whether `ffmpeg -filters` lists both `zscale` and `tonemap`.
fn has_filters(listing: &str) -> bool {
    let listed = |name: &str| {
        listing
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(name))
    };
    listed("zscale") && listed("tonemap")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdr_needs_no_filters_and_hdr_goes_through_linear_light() {
        let t = |from, full_range| tone_map_filter(&ToneMap { from, full_range });
        assert_eq!(t(Transfer::Sdr, false), "");
        assert_eq!(
            t(Transfer::Pq, false),
            "zscale=tin=smpte2084:pin=bt2020:min=bt2020nc:rin=limited:t=linear:npl=100,\
             format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=mobius:desat=0,\
             zscale=t=bt709:m=bt709:r=limited,format=yuv420p,"
        );
        let hlg = t(Transfer::Hlg, true);
        assert!(hlg.starts_with("zscale=tin=arib-std-b67:pin=bt2020:min=bt2020nc:rin=full:"));
        assert!(hlg.ends_with("format=yuv420p,"));
    }

    #[test]
    fn both_filters_must_be_listed() {
        let listing = " TSC zscale            V->V       Apply resizing, colorspace and bit depth conversion.\n \
                       .S. tonemap           V->V       Conversion to/from different dynamic ranges.\n";
        assert!(has_filters(listing));
        assert!(!has_filters(" .S. tonemap V->V x\n"));
        assert!(!has_filters(" TSC zscale_x V->V x\n .S. tonemap V->V x\n"));
        assert!(!has_filters(""));
    }

    #[tokio::test]
    async fn this_machines_ffmpeg_can_tone_map() {
        // Debian's ffmpeg (what install-deps and the Dockerfile install) has zimg.
        assert!(can_tone_map().await);
    }
}
