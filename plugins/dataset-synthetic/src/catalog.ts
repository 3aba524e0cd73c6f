import type { Anatomy, Modality } from '@medad/dataset';

/** How a modality looks at anatomy: a body cross-section, a stained slide, a surface photo or an OCT B-scan. */
export type View = 'section' | 'histology' | 'surface' | 'oct';

/** The view each modality renders. */
export const MODALITY_VIEW: Readonly<Record<Modality, View>> = Object.freeze({
  MRI: 'section',
  CT: 'section',
  'CE-MRI': 'section',
  'X-ray': 'section',
  Ultrasound: 'section',
  Microscopy: 'histology',
  Dermoscopy: 'surface',
  'Fundus photography': 'surface',
  Endoscopy: 'surface',
  OCT: 'oct',
});

/** Plausible anatomies of each modality (the generator never draws, say, a dermoscopy of the brain). */
export const MODALITY_ANATOMIES: Readonly<Record<Modality, readonly Anatomy[]>> = Object.freeze({
  MRI: ['Brain', 'Heart', 'Liver', 'Kidney', 'Breast', 'Knee'],
  CT: ['Brain', 'Lung', 'Heart', 'Liver', 'Kidney', 'Knee', 'Colon'],
  'CE-MRI': ['Brain', 'Heart', 'Liver', 'Kidney', 'Breast'],
  'X-ray': ['Lung', 'Breast', 'Knee'],
  Ultrasound: ['Heart', 'Liver', 'Kidney', 'Breast'],
  Microscopy: ['Lung', 'Liver', 'Kidney', 'Breast', 'Skin', 'Colon'],
  Dermoscopy: ['Skin'],
  'Fundus photography': ['Retina'],
  Endoscopy: ['Colon'],
  OCT: ['Retina', 'Skin'],
});

/** The modalities that can image an anatomy (inverse of {@link MODALITY_ANATOMIES}). */
export function modalitiesOf(anatomy: Anatomy): Modality[] {
  return (Object.keys(MODALITY_ANATOMIES) as Modality[]).filter((m) => MODALITY_ANATOMIES[m].includes(anatomy));
}

/** What each anatomy looks like in each view, for the chain of thought (falls back to ANATOMY_EVIDENCE). */
export const VIEW_ANATOMY_EVIDENCE: Readonly<Partial<Record<View, Partial<Record<Anatomy, string>>>>> = Object.freeze({
  histology: {
    Lung: 'thin cellular septa around many round empty air spaces',
    Liver: 'cords of pink cells radiating from a pale central vein',
    Kidney: 'round purple glomerular tufts among small tubular rings',
    Breast: 'large pale fat cells with a duct lined by purple nuclei',
    Skin: 'a dense purple surface layer over wavy pink dermal fibres',
    Colon: 'rows of elongated crypts lined by purple nuclei',
  },
  surface: {
    Skin: 'a mottled skin surface with a pigment network and hairs',
    Retina: 'a round retinal surface with a bright optic disc and branching vessels',
    Colon: 'a moist mucosal tube with a dark lumen and ring-shaped folds',
  },
  oct: {
    Retina: 'stacked retinal layers with a bright deep band and a central foveal dip',
    Skin: 'a bright surface line over a grainy layer that fades with depth',
  },
});
