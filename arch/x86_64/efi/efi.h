/*
 * The few UEFI definitions the boot stub uses (UEFI 2.10: sections 4, 7, 9, 13.4 and 13.5),
 * written out here rather than taken from a full EFI header set. The PE target's calling
 * convention is the Microsoft x64 one, which is UEFI's: no attributes are needed.
 */
#ifndef ARCH_X86_64_EFI_EFI_H
#define ARCH_X86_64_EFI_EFI_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t efi_status;
typedef void *efi_handle;
typedef uint16_t char16;

#define EFI_SUCCESS 0
#define EFI_ERROR_BIT (1ull << 63)
#define EFI_LOAD_ERROR (EFI_ERROR_BIT | 1)
#define EFI_INVALID_PARAMETER (EFI_ERROR_BIT | 2)
#define EFI_UNSUPPORTED (EFI_ERROR_BIT | 3)
#define EFI_BUFFER_TOO_SMALL (EFI_ERROR_BIT | 5)
#define EFI_OUT_OF_RESOURCES (EFI_ERROR_BIT | 9)
#define EFI_NOT_FOUND (EFI_ERROR_BIT | 14)

struct efi_guid {
	uint32_t data1;
	uint16_t data2, data3;
	uint8_t data4[8];
};

struct efi_table_header {
	uint64_t signature;
	uint32_t revision, header_size, crc32, reserved;
};

/* ---- Memory ------------------------------------------------------------------------- */

enum efi_allocate_type { EFI_ALLOCATE_ANY_PAGES, EFI_ALLOCATE_MAX_ADDRESS, EFI_ALLOCATE_ADDRESS };

enum efi_memory_type {
	EFI_RESERVED_MEMORY,
	EFI_LOADER_CODE,
	EFI_LOADER_DATA,
	EFI_BOOT_SERVICES_CODE,
	EFI_BOOT_SERVICES_DATA,
	EFI_RUNTIME_SERVICES_CODE,
	EFI_RUNTIME_SERVICES_DATA,
	EFI_CONVENTIONAL_MEMORY,
	EFI_UNUSABLE_MEMORY,
	EFI_ACPI_RECLAIM_MEMORY,
	EFI_ACPI_MEMORY_NVS,
	EFI_MEMORY_MAPPED_IO,
	EFI_MEMORY_MAPPED_IO_PORT_SPACE,
	EFI_PAL_CODE,
	EFI_PERSISTENT_MEMORY,
};

/* Entries are descriptor_size bytes apart (GetMemoryMap says), not sizeof this. */
struct efi_memory_descriptor {
	uint32_t type;
	uint32_t pad;
	uint64_t physical_start;
	uint64_t virtual_start;
	uint64_t number_of_pages; /* 4 KiB pages */
	uint64_t attribute;
};

/* ---- Services ----------------------------------------------------------------------- */

struct efi_simple_text_output {
	efi_status (*reset)(struct efi_simple_text_output *self, uint8_t extended);
	efi_status (*output_string)(struct efi_simple_text_output *self, const char16 *text);
};

struct efi_boot_services {
	struct efi_table_header hdr;
	void *raise_tpl, *restore_tpl;
	efi_status (*allocate_pages)(enum efi_allocate_type type, enum efi_memory_type memory_type,
	                             uint64_t pages, uint64_t *memory);
	efi_status (*free_pages)(uint64_t memory, uint64_t pages);
	efi_status (*get_memory_map)(uint64_t *map_size, struct efi_memory_descriptor *map,
	                             uint64_t *map_key, uint64_t *descriptor_size,
	                             uint32_t *descriptor_version);
	void *allocate_pool, *free_pool;
	void *create_event, *set_timer, *wait_for_event, *signal_event, *close_event, *check_event;
	void *install_protocol_interface, *reinstall_protocol_interface, *uninstall_protocol_interface;
	efi_status (*handle_protocol)(efi_handle handle, const struct efi_guid *protocol,
	                              void **interface);
	void *reserved, *register_protocol_notify, *locate_handle, *locate_device_path,
	    *install_configuration_table;
	void *load_image, *start_image, *exit, *unload_image;
	efi_status (*exit_boot_services)(efi_handle image, uint64_t map_key);
	void *get_next_monotonic_count, *stall;
	efi_status (*set_watchdog_timer)(uint64_t timeout, uint64_t code, uint64_t data_size,
	                                 const char16 *data);
};

struct efi_configuration_table {
	struct efi_guid vendor_guid;
	void *vendor_table;
};

struct efi_system_table {
	struct efi_table_header hdr;
	const char16 *firmware_vendor;
	uint32_t firmware_revision;
	efi_handle console_in_handle;
	void *con_in;
	efi_handle console_out_handle;
	struct efi_simple_text_output *con_out;
	efi_handle standard_error_handle;
	struct efi_simple_text_output *std_err;
	void *runtime_services;
	struct efi_boot_services *boot_services;
	uint64_t number_of_table_entries;
	struct efi_configuration_table *configuration_table;
};

/* ---- Protocols ---------------------------------------------------------------------- */

#define EFI_LOADED_IMAGE_PROTOCOL_GUID                                                             \
	{                                                                                              \
		0x5B1B31A1, 0x9562, 0x11D2,                                                                \
		{                                                                                          \
			0x8E, 0x3F, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B                                         \
		}                                                                                          \
	}
#define EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID                                                       \
	{                                                                                              \
		0x964E5B22, 0x6459, 0x11D2,                                                                \
		{                                                                                          \
			0x8E, 0x39, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B                                         \
		}                                                                                          \
	}
#define EFI_ACPI_20_TABLE_GUID                                                                     \
	{                                                                                              \
		0x8868E871, 0xE4F1, 0x11D3,                                                                \
		{                                                                                          \
			0xBC, 0x22, 0x00, 0x80, 0xC7, 0x3C, 0x88, 0x81                                         \
		}                                                                                          \
	}
#define EFI_ACPI_10_TABLE_GUID                                                                     \
	{                                                                                              \
		0xEB9D2D30, 0x2D88, 0x11D3,                                                                \
		{                                                                                          \
			0x9A, 0x16, 0x00, 0x90, 0x27, 0x3F, 0xC1, 0x4D                                         \
		}                                                                                          \
	}

struct efi_loaded_image {
	uint32_t revision;
	efi_handle parent_handle;
	struct efi_system_table *system_table;
	efi_handle device_handle;
	void *file_path;
	void *reserved;
	uint32_t load_options_size; /* bytes */
	void *load_options;
	void *image_base;
	uint64_t image_size;
	enum efi_memory_type image_code_type, image_data_type;
	void *unload;
};

#define EFI_FILE_MODE_READ 1ull

struct efi_file {
	uint64_t revision;
	efi_status (*open)(struct efi_file *self, struct efi_file **out, const char16 *name,
	                   uint64_t mode, uint64_t attributes);
	efi_status (*close)(struct efi_file *self);
	void *delete_;
	efi_status (*read)(struct efi_file *self, uint64_t *size, void *buffer);
};

struct efi_simple_file_system {
	uint64_t revision;
	efi_status (*open_volume)(struct efi_simple_file_system *self, struct efi_file **root);
};

#endif /* ARCH_X86_64_EFI_EFI_H */
