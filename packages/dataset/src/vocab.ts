import type { Region } from '@medad/core';

/** The ten imaging modalities of the benchmark (option texts for modality classification). */
export const MODALITIES = [
  'MRI',
  'CT',
  'OCT',
  'Ultrasound',
  'Dermoscopy',
  'CE-MRI',
  'Endoscopy',
  'Fundus photography',
  'X-ray',
  'Microscopy',
] as const;
/** An imaging modality. */
export type Modality = (typeof MODALITIES)[number];

/** The ten anatomies of the benchmark (option texts for anatomy identification). */
export const ANATOMIES = ['Brain', 'Lung', 'Heart', 'Liver', 'Kidney', 'Breast', 'Knee', 'Retina', 'Skin', 'Colon'] as const;
/** An anatomy. */
export type Anatomy = (typeof ANATOMIES)[number];

/**
 * The pathology types (option texts for pathology characterization), chosen so that each has a
 * distinct look: smooth vs irregular margin, bright vs dark content, ring, punctate dots.
 */
export const PATHOLOGIES = ['Cyst', 'Benign tumor', 'Malignant tumor', 'Abscess', 'Calcification', 'Infarct'] as const;
/** A pathology type. */
export type Pathology = (typeof PATHOLOGIES)[number];

/**
 * The four anomaly-detection findings. A yes/no question with only "yes" and "no" as possible
 * answers would leave two of four options never correct, which a text-only model learns to rule
 * out (50% without the image); four mutually exclusive findings keep every option plausible.
 */
export const ANOMALY_FINDINGS = [
  'No abnormality',
  'A single focal lesion',
  'Multiple focal lesions',
  'A diffuse abnormality',
] as const;
/** An anomaly-detection finding. */
export type AnomalyFinding = (typeof ANOMALY_FINDINGS)[number];

/** Visual evidence a reader would cite for each modality (used in chains of thought). */
export const MODALITY_EVIDENCE: Record<Modality, string> = {
  MRI: 'a grayscale section with bright fluid, soft grey tissue and a slowly varying intensity bias',
  CT: 'a sharp grayscale section with very bright bone, grey soft tissue and black air around the body',
  OCT: 'a grayscale cross-section made of horizontal layers with grainy streaks under a dark band',
  Ultrasound: 'a fan-shaped field of view filled with granular speckle that darkens with depth',
  Dermoscopy: 'a close-up of skin-coloured surface under a round lens with dark vignetted corners',
  'CE-MRI': 'a dark grayscale section with fluid dark and scattered brightly enhancing vessels',
  Endoscopy: 'a pink mucosal surface inside a round black-bordered view with white light reflections',
  'Fundus photography': 'an orange-red disc on a black background with branching dark red vessels',
  'X-ray': 'a smooth projection image with white dense structures, dark air and a bright corner marker',
  Microscopy: 'a pink stained tissue field dotted with purple nuclei and pale spaces',
};

/** Visual evidence for each anatomy (used in chains of thought). */
export const ANATOMY_EVIDENCE: Record<Anatomy, string> = {
  Brain: 'an oval skull outline around folded tissue with central ventricles',
  Lung: 'two large dark air-filled fields on either side of a central mediastinum',
  Heart: 'a round organ made of several chambers within a thick muscular wall',
  Liver: 'a large homogeneous wedge-shaped organ filling one side of the abdomen',
  Kidney: 'paired bean-shaped organs with a bright cortex and darker inner medulla',
  Breast: 'a dome-shaped soft tissue mound with streaky fibroglandular tissue',
  Knee: 'two rounded bone ends meeting at a joint space',
  Retina: 'a vessel-rich retinal surface or layered retinal bands with a central dip',
  Skin: 'a skin surface texture or a superficial layered band with hair and pigment',
  Colon: 'a tubular lumen with ring-shaped folds or crypt-like glands',
};

/** Visual evidence for each pathology type (used in chains of thought). */
export const PATHOLOGY_EVIDENCE: Record<Pathology, string> = {
  Cyst: 'a smooth round dark lesion with a thin bright rim',
  'Benign tumor': 'a smooth round uniformly bright mass with a sharp margin',
  'Malignant tumor': 'an irregular bright mass with spiculated margins and uneven content',
  Abscess: 'a thick bright ring around a dark centre',
  Calcification: 'a cluster of tiny very bright dots',
  Infarct: 'an irregular dark area with a lobulated margin',
};

/** Visual evidence for each anomaly finding (used in chains of thought). */
export const ANOMALY_EVIDENCE: Record<AnomalyFinding, string> = {
  'No abnormality': 'tissue with the expected texture and no focal or diffuse change',
  'A single focal lesion': 'one discrete focal lesion against otherwise normal tissue',
  'Multiple focal lesions': 'several separate focal lesions',
  'A diffuse abnormality': 'a large ill-defined area of altered texture without a discrete margin',
};

/** Where each region lies on the image, as a reader would say it (used in chains of thought). */
export const REGION_EVIDENCE: Record<Region, string> = {
  'Left Upper': 'a lesion whose centre lies in the upper half on the left, outside the central third',
  'Right Upper': 'a lesion whose centre lies in the upper half on the right, outside the central third',
  'Left Lower': 'a lesion whose centre lies in the lower half on the left, outside the central third',
  'Right Lower': 'a lesion whose centre lies in the lower half on the right, outside the central third',
  Center: 'a lesion whose centre lies within the middle third both across and down',
};
