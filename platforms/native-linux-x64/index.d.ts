/** Absolute path of the prebuilt sd_native.node in this package. */
export declare const addonPath: string;
