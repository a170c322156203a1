use super::*;

#[test]
fn product_labels_normalise() {
    let cases = [
        ("NVIDIA-A100-SXM4-80GB", Some("A100-80GB")),
        ("NVIDIA-A100-80GB-PCIe", Some("A100-80GB")),
        ("A100 80GB", Some("A100-80GB")),
        ("a100-80gb", Some("A100-80GB")),
        ("NVIDIA-A100-SXM4-40GB", Some("A100-40GB")),
        ("A100", Some("A100-40GB")),
        ("NVIDIA-H100-80GB-HBM3", Some("H100-80GB")),
        ("NVIDIA H100", Some("H100-80GB")),
        ("H100", Some("H100-80GB")),
        ("NVIDIA-H200", Some("H200")),
        ("NVIDIA-L40S", Some("L40S")),
        ("NVIDIA-L40", Some("L40")),
        ("NVIDIA-L4", Some("L4")),
        ("NVIDIA-A10G", Some("A10G")),
        ("NVIDIA A10", Some("A10")),
        ("Tesla-T4", Some("T4")),
        ("NVIDIA-Tesla-T4", Some("T4")),
        ("T4", Some("T4")),
        ("Tesla-V100-SXM2-16GB", Some("V100")),
        ("V100-PCIE-16GB", Some("V100")),
        ("Tesla-V100-SXM2-32GB", Some("V100-32GB")),
        ("NVIDIA-B200", Some("B200")),
        ("NVIDIA-GeForce-RTX-4090", None),
        ("AMD-MI300X", None),
        ("", None),
    ];
    for (label, want) in cases {
        assert_eq!(normalize_gpu(label), want, "{label}");
    }
    // The reference mapped L40 to L4 and anything unknown to A10 (§19.7).
    assert_ne!(normalize_gpu("NVIDIA-L40"), Some("L4"));
}

#[test]
fn gpu_models_keep_the_reference_order_first() {
    let names: Vec<&str> = GPU_MODELS.iter().take(9).map(|g| g.model).collect();
    assert_eq!(
        names,
        [
            "H100-80GB",
            "A100-80GB",
            "A100-40GB",
            "L40S",
            "L4",
            "A10G",
            "A10",
            "T4",
            "V100"
        ]
    );
    assert_eq!(gpu_info("a100-80gb").map(|i| i.memory_gb), Some(80));
    assert_eq!(gpu_info("L40S").map(|i| i.generation), Some("Ada Lovelace"));
    assert_eq!(gpu_info("nope"), None);
    for g in GPU_MODELS {
        assert_eq!(
            normalize_gpu(g.model),
            Some(g.model),
            "{} normalises to itself",
            g.model
        );
    }
}

#[test]
fn clouds_from_instance_types() {
    let cases = [
        ("Standard_NC24ads_A100_v4", Some(Cloud::Azure)),
        ("Basic_A1", Some(Cloud::Azure)),
        ("standard_d16s_v5", Some(Cloud::Azure)),
        ("p4d.24xlarge", Some(Cloud::Aws)),
        ("g5.xlarge", Some(Cloud::Aws)),
        ("g6e.2xlarge", Some(Cloud::Aws)),
        ("m5.large", Some(Cloud::Aws)),
        ("a2-highgpu-1g", Some(Cloud::Gcp)),
        ("g2-standard-4", Some(Cloud::Gcp)),
        ("n1-standard-8", Some(Cloud::Gcp)),
        ("ct5lp-hightpu-4t", Some(Cloud::Gcp)),
        ("big", None),
        ("", None),
    ];
    for (t, want) in cases {
        assert_eq!(detect_cloud(t), want, "{t}");
    }
}

#[test]
fn azure_gpu_sizes() {
    assert_eq!(
        azure_gpu_info("Standard_NC24ads_A100_v4"),
        Some((1.0, "A100-80GB"))
    );
    assert_eq!(
        azure_gpu_info("standard_nd96isr_h100_v5"),
        Some((8.0, "H100-80GB"))
    );
    assert_eq!(azure_gpu_info("Standard_D16s_v5"), None);
}

#[test]
fn static_prices_are_complete_and_dated() {
    assert_eq!(PRICES_DATE.len(), 10);
    for p in static_prices::STATIC_PRICES {
        assert!(p.hourly_usd > 0.0, "{}", p.instance_type);
        assert!(p.gpu_count > 0, "{}", p.instance_type);
        assert_eq!(
            detect_cloud(p.instance_type),
            Some(p.cloud),
            "{}",
            p.instance_type
        );
        assert!(
            gpu_info(p.gpu_model).is_some(),
            "{} names a known model",
            p.instance_type
        );
    }
    assert_eq!(
        static_price("G4DN.XLARGE").map(|p| p.hourly_usd),
        Some(0.526)
    );
    let (rate, row) = per_gpu_rate("H100-80GB").expect("H100");
    assert_eq!(row.instance_type, "a3-highgpu-8g");
    assert!((rate - 88.49 / 8.0).abs() < 1e-9);
    assert_eq!(per_gpu_rate("B200"), None);
}

#[test]
fn estimates_count_gpus_replicas_and_hours() {
    let e = estimate("NVIDIA-Tesla-T4", 2, 3, 730);
    assert_eq!(e.total_gpus, 6);
    assert_eq!(e.normalized_gpu_model, "T4");
    assert_eq!(e.per_gpu.hourly, 0.53);
    assert_eq!(e.estimate.hourly, round2(0.526 * 6.0));
    assert_eq!(e.estimate.monthly, round2(0.526 * 6.0 * 730.0));
    assert_eq!(e.estimate.source, Source::Static);
    assert_eq!(e.notes[0], "GPU: T4 (16GB, Turing)");
    assert!(e.notes[1].contains("g4dn.xlarge"), "{:?}", e.notes);
    // hoursPerMonth counts (§19.8).
    assert_eq!(
        estimate("T4", 1, 1, 100).estimate.monthly,
        round2(0.526 * 100.0)
    );
    let unknown = estimate("Mystery-9000", 1, 1, 730);
    assert_eq!(unknown.estimate.hourly, 0.0);
    assert_eq!(unknown.normalized_gpu_model, "Mystery-9000");
    assert_eq!(unknown.notes, ["Unknown GPU: Mystery-9000"]);
    let no_price = estimate("B200", 8, 1, 730);
    assert_eq!(no_price.estimate.hourly, 0.0);
    assert_eq!(no_price.notes[1], "No static price is known for this GPU");
    assert_eq!(estimate("T4", u32::MAX, 2, 730).total_gpus, u32::MAX);
}
